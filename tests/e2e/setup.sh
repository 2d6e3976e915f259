#!/usr/bin/env bash
# Installs the browser tests' npm packages (package-lock.json: playwright-core) into
# tests/e2e/node_modules when they are missing or older than the lock file. `make test` runs it.
# Quiet when nothing is to do; when it cannot install them it says so in one line and exits 0:
# the browser tests then report their cases as skipped, with the reason.
set -uo pipefail
cd "$(dirname "$0")"

stamp=node_modules/.dcos-e2e-lock
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp" && [ -f node_modules/playwright-core/package.json ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "e2e: npm is missing (Debian's packages nodejs and npm); the browser tests will be skipped"
  exit 0
fi
if log=$(npm ci --no-audit --no-fund --loglevel=error 2>&1); then
  cp package-lock.json "$stamp"
else
  echo "e2e: 'npm ci' in tests/e2e failed ($(printf '%s' "$log" | grep -m1 -i 'err' || printf '%s' "$log" | tail -n1)); the browser tests will be skipped"
fi
exit 0

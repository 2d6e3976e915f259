#!/usr/bin/env python3
"""Runs `meson test` in a build directory and totals the results.

Every test executable is doctest-based; its summary line gives the number of test cases that
passed, failed and were skipped. An executable that crashed or timed out without a summary counts
as one failed case. The last line printed is `N passed, N failed` (`, N skipped` when any were),
and the exit status is non-zero when anything failed.
"""
import json
import os
import re
import subprocess
import sys

SUMMARY = re.compile(r"\[doctest\] test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed\s*\|\s*(\d+) skipped")


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    extra = sys.argv[2:]
    rc = subprocess.call(["meson", "test", "-C", build, "--print-errorlogs", "--no-rebuild"] + extra)
    log = os.path.join(build, "meson-logs", "testlog.json")
    passed = failed = skipped = 0
    if not os.path.exists(log):
        print("no test log written", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    with open(log) as f:
        for line in f:
            entry = json.loads(line)
            out = (entry.get("stdout") or "") + (entry.get("stderr") or "")
            m = None
            for m in SUMMARY.finditer(out):
                pass
            ok = entry.get("result") == "OK"
            if m:
                p, fl, s = int(m.group(2)), int(m.group(3)), int(m.group(4))
                passed += p
                failed += fl
                skipped += s
                if not ok and fl == 0:
                    failed += 1  # exited badly after its cases (leak, crash at exit)
            else:
                failed += 0 if ok else 1
                passed += 1 if ok else 0
            print(f"  {entry['name']}: {entry.get('result')}" + (f" ({m.group(2)} passed, {m.group(3)} failed)" if m else ""))
    summary = f"{passed} passed, {failed} failed"
    if skipped:
        summary += f", {skipped} skipped"
    print(summary)
    return 1 if (failed or rc != 0) else 0


if __name__ == "__main__":
    sys.exit(main())

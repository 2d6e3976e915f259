#!/bin/sh
# Installs dcos on this machine as a systemd service: the binary next to this script goes to
# /usr/local/bin/dcos, the role's flags to /etc/dcos/<role>.env (DCOS_<FLAG>=value lines, which
# `dcos` reads from its environment) and its unit to /etc/systemd/system/dcos-<role>.service;
# then the service is enabled and started when systemd runs, else the commands are printed.
#
#   ./install.sh --role master [--port 5050] [--work-dir /var/lib/dcos/master]
#   ./install.sh --role agent --master HOST:5050 --token TOKEN [--work-dir /var/lib/dcos/agent]
#
# --prefix DIR installs under DIR instead of / and starts nothing; --dry-run only prints what
# would be done. --binary FILE installs another dcos binary; --resources and --attributes go to
# the agent's env file.
set -eu

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}
fail() {
  echo "install.sh: $*" >&2
  exit 2
}

here=$(cd "$(dirname "$0")" && pwd)
role="" master="" token="" work_dir="" port="" resources="" attributes="" prefix="" dry_run=false binary=""
while [ $# -gt 0 ]; do
  opt=$1
  case "$opt" in
    --*=*) val=${opt#*=}; opt=${opt%%=*}; shift; set -- "$opt" "$val" "$@" ;;
  esac
  case "$1" in
    --role) [ $# -ge 2 ] || fail "$1 needs a value"; role=$2; shift 2 ;;
    --master) [ $# -ge 2 ] || fail "$1 needs a value"; master=$2; shift 2 ;;
    --token) [ $# -ge 2 ] || fail "$1 needs a value"; token=$2; shift 2 ;;
    --work-dir|--work_dir) [ $# -ge 2 ] || fail "$1 needs a value"; work_dir=$2; shift 2 ;;
    --port) [ $# -ge 2 ] || fail "$1 needs a value"; port=$2; shift 2 ;;
    --resources) [ $# -ge 2 ] || fail "$1 needs a value"; resources=$2; shift 2 ;;
    --attributes) [ $# -ge 2 ] || fail "$1 needs a value"; attributes=$2; shift 2 ;;
    --prefix) [ $# -ge 2 ] || fail "$1 needs a value"; prefix=$2; shift 2 ;;
    --binary) [ $# -ge 2 ] || fail "$1 needs a value"; binary=$2; shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    -h|--help) usage ;;
    *) fail "unknown option '$1' (see --help)" ;;
  esac
done

case "$role" in
  master) [ -z "$master$token" ] || fail "--master and --token are for --role agent" ;;
  agent)
    [ -n "$master" ] || fail "--role agent needs --master HOST:PORT"
    [ -n "$token" ] || fail "--role agent needs --token (run \`dcos master token\` on the master)" ;;
  "") fail "missing --role master|agent" ;;
  *) fail "--role must be master or agent, not '$role'" ;;
esac
[ -n "$work_dir" ] || work_dir=/var/lib/dcos/$role
# The binary: next to this script (the release tarball), else the build tree's (packaging/).
if [ -z "$binary" ]; then
  binary=$here/dcos
  [ -f "$binary" ] || binary=$here/../build/dcos
fi
[ -f "$binary" ] || fail "no dcos binary next to install.sh (or pass --binary FILE)"
unit_src=$here/dcos-$role.service
[ -f "$unit_src" ] || fail "missing $unit_src"
if [ -n "$prefix" ]; then prefix=$(mkdir -p "$prefix" && cd "$prefix" && pwd); fi
if [ -z "$prefix" ] && ! $dry_run && [ "$(id -u)" != 0 ]; then fail "run as root (or with --prefix DIR / --dry-run)"; fi

bin_dst=$prefix/usr/local/bin/dcos
env_dst=$prefix/etc/dcos/$role.env
unit_dst=$prefix/etc/systemd/system/dcos-$role.service

# Single-quoted values read the same to systemd's EnvironmentFile= and to `. file` in a shell
# (resources such as 'cpus:4;mem:2048' hold semicolons).
for v in "$master" "$token" "$work_dir" "$port" "$resources" "$attributes"; do
  case "$v" in *"'"*|*"
"*) fail "values must not contain quotes or newlines: $v" ;; esac
done
env_text() {
  echo "# dcos $role flags as DCOS_<FLAG>='value' (see \`dcos $role --help\`); written by install.sh"
  echo "DCOS_WORK_DIR='$work_dir'"
  [ -z "$port" ] || echo "DCOS_PORT='$port'"
  if [ "$role" = agent ]; then
    echo "DCOS_MASTER='$master'"
    echo "DCOS_TOKEN='$token'"
    [ -z "$resources" ] || echo "DCOS_RESOURCES='$resources'"
    [ -z "$attributes" ] || echo "DCOS_ATTRIBUTES='$attributes'"
  fi
}

if $dry_run; then
  echo "would install $binary to $bin_dst"
  echo "would write $env_dst (mode 0600):"
  env_text | sed "s/^DCOS_TOKEN=.*/DCOS_TOKEN='<token>'/; s/^/    /"
  echo "would install $unit_src to $unit_dst"
  echo "would create $prefix$work_dir"
  echo "would run: systemctl daemon-reload && systemctl enable --now dcos-$role"
  exit 0
fi

mkdir -p "$(dirname "$bin_dst")" "$(dirname "$env_dst")" "$(dirname "$unit_dst")" "$prefix$work_dir"
# Copy, then rename: a running dcos keeps its old file and the new one appears whole.
cp "$binary" "$bin_dst.new" && chmod 0755 "$bin_dst.new" && mv -f "$bin_dst.new" "$bin_dst"
(umask 077 && env_text > "$env_dst.new") && chmod 0600 "$env_dst.new" && mv -f "$env_dst.new" "$env_dst"
cp "$unit_src" "$unit_dst" && chmod 0644 "$unit_dst"
chmod 0700 "$prefix$work_dir"
echo "installed $bin_dst, $env_dst and $unit_dst"

start="systemctl daemon-reload && systemctl enable --now dcos-$role"
if [ -z "$prefix" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload
  systemctl enable --now "dcos-$role"
  echo "started dcos-$role (journalctl -u dcos-$role -f follows its log)"
else
  echo "systemd is not running here${prefix:+ (or --prefix was given)}; start it with:"
  echo "  $start"
  echo "or without systemd:  set -a; . /etc/dcos/$role.env; set +a; /usr/local/bin/dcos $role"
fi
if [ "$role" = master ]; then
  flag=""
  [ "$work_dir" = /var/lib/dcos/master ] || flag=" --work_dir $work_dir"
  echo "once the master runs, \`sudo dcos master token$flag\` prints the join token agents need"
fi

#!/usr/bin/env bash
# Install shopkeep-agent as a systemd service: a system user, a virtual environment, the
# configuration from the dashboard's connection string (`shopkeep-agent init`), a unit.
#
#   sudo ./install-linux.sh 'shopkeep+https://sks_...:srv_...@shop.example.com/?game=minecraft'
#
# Options: --source DIR (the agent's source, default: the directory above this script)
#          --prefix DIR (virtual environment, default /opt/shopkeep-agent)
#          --config-dir DIR (default /etc/shopkeep-agent)   --user NAME (default shopkeep-agent)
#          --python PATH (3.9 or newer, default python3)    --no-systemd   --no-check
#          --root DIR (install below DIR instead of /, e.g. for a package build or a test)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
source_dir="$(dirname "$here")"
prefix=/opt/shopkeep-agent
config_dir=/etc/shopkeep-agent
user=shopkeep-agent
python=python3
root=""
systemd=1
check=1
connection=""

while [ $# -gt 0 ]; do
  case "$1" in
    --source) source_dir="$2"; shift 2 ;;
    --prefix) prefix="$2"; shift 2 ;;
    --config-dir) config_dir="$2"; shift 2 ;;
    --user) user="$2"; shift 2 ;;
    --python) python="$2"; shift 2 ;;
    --root) root="$2"; shift 2 ;;
    --no-systemd) systemd=0; shift ;;
    --no-check) check=0; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) connection="$1"; shift ;;
  esac
done

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then
  echo "shopkeep-agent needs Python 3.9 or newer ($python is $("$python" -V 2>&1 || echo missing))" >&2
  exit 1
fi

as_root=0
[ "$(id -u)" = 0 ] && [ -z "$root" ] && as_root=1

# 1. The user the agent runs as: owns its configuration, secrets and journal, nothing else.
if [ "$as_root" = 1 ] && ! id "$user" >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/shopkeep-agent --create-home --shell /usr/sbin/nologin "$user"
fi

# 2. A virtual environment with the agent in it.
venv="$root$prefix"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
extras="webrcon"
"$venv/bin/pip" install --quiet "$source_dir[$extras]"

# 3. The configuration: init asks about the game and writes the secrets 0600.
conf="$root$config_dir"
mkdir -p "$conf"
chmod 0750 "$conf"
init_args=(init --dir "$conf")
[ -n "$connection" ] && init_args+=("$connection")
[ "$check" = 0 ] && init_args+=(--no-check)
if [ "$as_root" = 1 ]; then
  chown "$user:$user" "$conf"
  # Run as the agent's user so every file it writes is that user's alone.
  runuser -u "$user" -- "$venv/bin/shopkeep-agent" "${init_args[@]}"
else
  "$venv/bin/shopkeep-agent" "${init_args[@]}"
fi

# 4. The systemd unit.
unit_dir="$root/etc/systemd/system"
mkdir -p "$unit_dir"
sed -e "s#@PREFIX@#$prefix#g" -e "s#@CONFIG@#$config_dir#g" -e "s#@USER@#$user#g" \
  "$here/shopkeep-agent.service" > "$unit_dir/shopkeep-agent.service"
echo "wrote $unit_dir/shopkeep-agent.service"

if [ "$systemd" = 1 ] && [ "$as_root" = 1 ] && command -v systemctl >/dev/null; then
  systemctl daemon-reload
  systemctl enable --now shopkeep-agent.service
  echo "shopkeep-agent is running: journalctl -u shopkeep-agent -f"
else
  echo "start it with: systemctl daemon-reload && systemctl enable --now shopkeep-agent"
fi

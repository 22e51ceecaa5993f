#!/usr/bin/env bash
# Bangfu's two commands (README):
#   bash scripts/bangfu.sh serve   install everything, migrate, seed the demo, serve on :8000
#   bash scripts/bangfu.sh test    install the same, then run the whole test suite
# Anything after the command is passed on (to pytest for `test`, e.g. -k households).
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-}"
shift || true
case "$mode" in serve|test|install) ;; *) echo "usage: bash scripts/bangfu.sh serve|test|install" >&2; exit 2 ;; esac

say() { printf '\033[1mbangfu:\033[0m %s\n' "$*"; }

# --- 1. Debian packages: fonts and libraries for WeasyPrint PDFs, gettext for translations,
#        poppler-utils (pdftotext) and chromium for the tests.
SYSTEM_PACKAGES=(python3-venv gettext fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0
                 libharfbuzz-subset0 poppler-utils chromium)
if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for pkg in "${SYSTEM_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    if [ "$(id -u)" = 0 ]; then apt_get=(apt-get)
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then apt_get=(sudo apt-get)
    else
      echo "bangfu: missing Debian packages: ${missing[*]} (install them as root: apt-get install ${missing[*]})" >&2
      exit 1
    fi
    say "installing Debian packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" update -q
    DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -q --no-install-recommends "${missing[@]}"
  fi
else
  say "not a Debian system: make sure these are installed: ${SYSTEM_PACKAGES[*]}"
fi

# --- 2. Python packages in .venv, pinned by requirements.lock; skipped when nothing changed.
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  say "creating the virtual environment .venv"
  "$PYTHON" -m venv .venv
fi
stamp=".venv/.bangfu-installed"
want="$(cat pyproject.toml requirements.lock | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing Python packages (requirements.lock)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -c requirements.lock -e ".[dev]"
  echo "$want" > "$stamp"
fi
py=.venv/bin/python

# --- 3. Translations.
"$py" manage.py compilemessages --ignore ".venv" --ignore "staticfiles" -v 0

case "$mode" in
  install)
    "$py" manage.py migrate --no-input -v 0
    ;;
  serve)
    "$py" manage.py migrate --no-input -v 0
    # 300 demo files (with members, history, payments and service cases), so every page has
    # something to show; a second run adds nothing.
    "$py" manage.py seed_demo --households 300
    # The background worker (imports, large exports) runs beside the server and stops with it.
    "$py" manage.py db_worker --no-reload &
    worker=$!
    trap 'kill "$worker" 2>/dev/null || true' EXIT INT TERM
    say "serving on http://127.0.0.1:8000 with the job worker (demo users in README; Ctrl-C stops)"
    "$py" manage.py runserver 127.0.0.1:8000
    ;;
  test)
    db="${DATABASE_URL:-sqlite (in memory)}"
    say "running the test suite on ${db%%@*}"
    set +e
    "$py" -m pytest -n auto --dist loadfile "$@"
    status=$?
    set -e
    exit $status
    ;;
esac

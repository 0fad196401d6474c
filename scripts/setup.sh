#!/usr/bin/env bash
# Create .venv with Navette and its pinned dependencies (dev tools with --dev).
# Installs the Debian libraries WeasyPrint needs when they are missing (needs root or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
dpkg -s libpango-1.0-0 >/dev/null 2>&1 || need_apt+=(libpango-1.0-0 libpangoft2-1.0-0)
dpkg -s libharfbuzz-subset0 >/dev/null 2>&1 || need_apt+=(libharfbuzz-subset0)
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || need_apt+=(fonts-dejavu-core)
if [[ "${1:-}" == "--dev" ]]; then
    [[ -x /usr/bin/chromium ]] || need_apt+=(chromium)
    command -v pdftoppm >/dev/null || need_apt+=(poppler-utils)
fi
if (( ${#need_apt[@]} )); then
    sudo_cmd=""
    if [[ $(id -u) -ne 0 ]]; then
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
            sudo_cmd="sudo"
        else
            # Without root the rest still installs; the PDF pages or browser tests then say
            # what is missing (browser tests skip, except under CI where they must run).
            echo "Paquets Debian manquants, à installer en root :" >&2
            echo "  apt-get install -y ${need_apt[*]}" >&2
            need_apt=()
        fi
    fi
    if (( ${#need_apt[@]} )); then
        echo "Installation des paquets Debian : ${need_apt[*]}" >&2
        $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq "${need_apt[@]}" >/dev/null
    fi
fi

[[ -x .venv/bin/python ]] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip >/dev/null
if [[ "${1:-}" == "--dev" ]]; then
    .venv/bin/pip install -q -e '.[dev]'
else
    .venv/bin/pip install -q -e .
fi

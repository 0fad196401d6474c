#!/usr/bin/env bash
# Set up Navette on SQLite, load the demo territory (only into an empty database), and serve it
# on http://127.0.0.1:5000. Sign in with the demo logins printed below (password navette-demo).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"

# The secret key never lives in the repository: the app generates instance/secret_key on its
# first run when SECRET_KEY is not set.
mkdir -p instance

# The demo runs offline: addresses are placed from the commune table and typed coordinates,
# never sent to the national address service (set NAVETTE_GEOCODER=ban in production).
export NAVETTE_GEOCODER="${NAVETTE_GEOCODER:-offline}"

# The demo is served over plain http on 127.0.0.1: let the browser keep the session cookie.
# A real deployment is served over https and keeps the default (Secure cookies, HSTS).
export NAVETTE_INSECURE_COOKIES="${NAVETTE_INSECURE_COOKIES:-1}"
# Links in e-mails (password reset, bookings) point here, never to the request's Host header.
export NAVETTE_BASE_URL="${NAVETTE_BASE_URL:-http://127.0.0.1:5000}"

echo "== Mise à jour de la base (${DATABASE_URL:-sqlite:///instance/navette.sqlite3})"
alembic upgrade head

echo "== Territoire de démonstration"
flask --app webapp demo

echo "== Navette sur http://127.0.0.1:5000 (Ctrl+C pour arrêter)"
exec flask --app webapp run --host 127.0.0.1 --port 5000

#!/usr/bin/env bash
# Serves the whole API on http://127.0.0.1:3000 without Docker: starts the local AWS
# (moto, on loopback only), creates the table, the SES identity and a demo client,
# configuration and user, prints their credentials and a signed demo JWT, and serves every
# route of template.yaml through the functions' own handlers, with a dev inbox at
# /_dev/inbox. Ctrl-C stops everything it started.
#
# Environment: PORT (3000; 0 picks a free one), MOTO_PORT (a free one), and any setting of
# the README's configuration table (local defaults below).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
ensure_python_requirements tests/requirements.txt

state="$(mktemp -d)"
moto_pid=""
server_pid=""
cleanup() {
    trap - EXIT INT TERM
    [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null || true
    [ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$state"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

"$OTP_VENV/bin/python" tests/support/moto_server.py --port "${MOTO_PORT:-0}" \
    --port-file "$state/moto.port" --parent-pid $$ >/dev/null 2>"$state/moto.log" &
moto_pid=$!
for _ in $(seq 1 150); do
    [ -s "$state/moto.port" ] && break
    if ! kill -0 "$moto_pid" 2>/dev/null; then
        echo "the local AWS did not start:" >&2
        cat "$state/moto.log" >&2
        exit 1
    fi
    sleep 0.2
done
[ -s "$state/moto.port" ] || { echo "the local AWS did not start in 30 s" >&2; exit 1; }

export AWS_ENDPOINT_URL="http://127.0.0.1:$(cat "$state/moto.port")"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-local}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-local}"
export TABLE_NAME="${TABLE_NAME:-otp-local}"
export OTP_HMAC_KEYS="${OTP_HMAC_KEYS:-local-hmac-key-not-for-production-0123456789}"
export JWT_SECRET="${JWT_SECRET:-local-development-jwt-secret-not-for-production}"
# The demo user's issuer: Bridgekeeper's sessions and known users are its.
export BRIDGEKEEPER_ISSUERS="${BRIDGEKEEPER_ISSUERS:-local-demo}"
export EMAIL_FROM="${EMAIL_FROM:-otp@example.com}"
# Locally, otp-admin test-destination can be tried; a deployment keeps them off by default.
export OTP_ALLOW_TEST_DESTINATIONS="${OTP_ALLOW_TEST_DESTINATIONS:-true}"
echo "local AWS at $AWS_ENDPOINT_URL" >&2

if [ -z "${OTP_LOCAL_BIN:-}" ]; then
    cargo build --quiet -p otp-local
    target_dir="$(cargo metadata --format-version 1 --no-deps \
        | "$OTP_VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
    OTP_LOCAL_BIN="$target_dir/debug/otp-local"
fi
"$OTP_LOCAL_BIN" --demo --port "${PORT:-3000}" --template template.yaml &
server_pid=$!
wait "$server_pid"

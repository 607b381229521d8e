#!/usr/bin/env bash
# Twilio Verify v2 through Twilio's official Python SDK (PyPI `twilio`), pointed at the
# local server (scripts/dev.sh) by replacing the Verify domain's base URL: create, wrong
# and right checks, a check after approval, check by sid, cancel, max attempts, the send
# budget, the email channel, the Services resource (create, send, fetch, list page by
# page, update, delete), bad credentials, and with an API key (SK...) the flows that
# send and check and the services flow; then Twilio's official Node SDK (npm `twilio`, pinned in
# tests/clients/package.json), as the README's Node example runs it, with the auth token
# and with an API key: that SDK refuses an account SID not of Twilio's form before any
# request. Prints one line per flow; fails on any.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
ensure_python_requirements tests/requirements.txt

state="$(mktemp -d)"
trap 'stop_local_server; rm -rf "$state"' EXIT
# Keys of this run alone, so that the audit knows them.
export OTP_HMAC_KEYS="twilio-sdk-run-hmac-key-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
export JWT_SECRET="twilio-sdk-run-jwt-secret-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
# The Node SDK, as locked (npm ci: the lock's versions, nothing resolved anew).
(cd tests/clients && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
start_local_server "$state"

status=0
"$OTP_VENV/bin/python" tests/clients/twilio_verify.py | tee "$state/flows.txt" || status=$?
node tests/clients/twilio_verify.js | tee "$state/node-flows.txt" || status=$?
if [ "$status" -ne 0 ]; then
    echo "the local server's log:" >&2
    grep '^{' "$state/server.log" | tail -40 >&2 || true
fi
if [ -n "${OTP_TEST_REPORT_DIR:-}" ]; then
    mkdir -p "$OTP_TEST_REPORT_DIR"
    { tail -1 "$state/flows.txt"; tail -1 "$state/node-flows.txt"; } >"$OTP_TEST_REPORT_DIR/twilio-sdk.txt"
    grep '^{' "$state/server.log" >"$OTP_TEST_REPORT_DIR/functions-twilio-sdk.jsonl" || true
    "$OTP_VENV/bin/python" tests/clients/local_secrets.py "$OTP_LOCAL_URL" >"$OTP_TEST_REPORT_DIR/secrets-twilio-sdk.tsv"
fi
exit "$status"

#!/usr/bin/env bash
# The contract run: Schemathesis drives the local server (scripts/dev.sh, against the
# local AWS) with every operation of openapi.json, in its examples, coverage, fuzzing and
# stateful phases, with every check: no 5xx, every answer in the document's shape, every
# request the document calls valid accepted and every other refused, 405 for a method a
# route does not take. Prints the number of cases and fails on any failed check.
#
# With OTP_TEST_REPORT_DIR set (scripts/test.sh sets it), the functions' log lines and
# the run's secrets (the demo credentials, every code delivered) go there for the log
# audit, and the figures to contract.txt. Extra arguments go to `st run`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
ensure_python_requirements tests/requirements.txt

report="${OTP_TEST_REPORT_DIR:-}"
state="$(mktemp -d)"
trap 'stop_local_server; rm -rf "$state"' EXIT

# Keys of this run alone, so that the audit knows them.
export OTP_HMAC_KEYS="contract-run-hmac-key-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
export JWT_SECRET="contract-run-jwt-secret-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
start_local_server "$state"

status=0
(cd tests/contract && PYTHONPATH=. "$OTP_VENV/bin/st" --config-file schemathesis.toml run ../../openapi.json \
    --no-color "$@") >"$state/st.txt" 2>&1 || status=$?
# Failures in full; the summary either way.
if [ "$status" -ne 0 ]; then
    cat "$state/st.txt"
else
    sed -n '/^=* SUMMARY =*$/,$p' "$state/st.txt"
fi

cases="$(grep -A1 '^Test cases:' "$state/st.txt" | tail -1 | sed 's/^ *//')"
operations="$(grep -A2 '^API Operations:' "$state/st.txt" | grep 'Tested:' | sed 's/.*Tested: *//')"
failures="$(grep -oE '[0-9]+ failures?' "$state/st.txt" | tail -1 || true)"
line="contract (Schemathesis, openapi.json, examples, coverage, fuzzing and stateful phases, every check): ${operations:-?} operations, ${cases:-no cases}; ${failures:-0 failures}"
echo "$line"

if [ -n "$report" ]; then
    mkdir -p "$report"
    echo "$line" >"$report/contract.txt"
    # The functions' own lines (the launcher's banner shows the demo credentials on purpose).
    grep '^{' "$state/server.log" >"$report/functions-contract.jsonl" || true
    "$OTP_VENV/bin/python" tests/clients/local_secrets.py "$OTP_LOCAL_URL" >"$report/secrets-contract.tsv"
fi
exit "$status"

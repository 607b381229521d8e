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
server=""
cleanup() {
    if [ -n "$server" ]; then
        kill -TERM "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$state"
}
trap cleanup EXIT

# Keys of this run alone, so that the audit knows them.
export OTP_HMAC_KEYS="contract-run-hmac-key-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
export JWT_SECRET="contract-run-jwt-secret-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
PORT=0 bash scripts/dev.sh >"$state/ready" 2>"$state/server.log" &
server=$!
for _ in $(seq 1 600); do
    grep -q '"url"' "$state/ready" 2>/dev/null && break
    kill -0 "$server" 2>/dev/null || { cat "$state/server.log" >&2; echo "the local server did not start" >&2; exit 1; }
    sleep 0.5
done
grep -q '"url"' "$state/ready" || { echo "the local server did not start in 300 s" >&2; exit 1; }

# The demo caller's credentials, as the contract's configuration reads them.
eval "$("$OTP_VENV/bin/python" - "$state/ready" <<'PY'
import json, shlex, sys
ready = json.loads(next(line for line in open(sys.argv[1]) if '"url"' in line))
demo = ready["demo"]
for name, value in [("URL", ready["url"]), ("JWT", demo["jwt"]), ("CLIENT_ID", demo["client_id"]),
                    ("CLIENT_SECRET", demo["client_secret"]), ("API_KEY", demo["api_key"]),
                    ("CONFIG_UID", demo["otp_config_uid"])]:
    print(f"export OTP_CONTRACT_{name}={shlex.quote(value)}")
PY
)"

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
    "$OTP_VENV/bin/python" - "$OTP_CONTRACT_URL" >"$report/secrets-contract.tsv" <<'PY'
import json, os, re, sys, urllib.request
for kind, name in [("jwt", "OTP_CONTRACT_JWT"), ("client secret", "OTP_CONTRACT_CLIENT_SECRET"),
                   ("api key", "OTP_CONTRACT_API_KEY"), ("hmac key", "OTP_HMAC_KEYS"),
                   ("jwt secret", "JWT_SECRET")]:
    print(f"{kind}\t{os.environ[name]}")
    if name == "OTP_CONTRACT_API_KEY":
        print(f"api key secret\t{os.environ[name].split('.', 1)[-1]}")
inbox = json.load(urllib.request.urlopen(sys.argv[1] + "/_dev/inbox.json"))
for message in inbox["messages"]:
    for code in set(re.findall(r"\d{6,}", message.get("text", ""))):
        print(f"code\t{code}")
PY
fi
exit "$status"

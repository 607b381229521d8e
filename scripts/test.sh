#!/usr/bin/env bash
# Runs every test: the unit tests, the functions end to end against a local AWS (moto,
# which the test binary starts on a free loopback port and stops when it exits), the
# local server driven over HTTP, the load run, the contract run (scripts/contract.sh),
# Twilio's SDK (scripts/twilio-sdk.sh) and the audit of every line the functions logged.
# Ends with the figures of each.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
ensure_python_requirements tests/requirements.txt
export OTP_PYTHON="$OTP_VENV/bin/python"
# Unoptimised builds of the AWS SDK poll deep: give test threads the 8 MiB of stack a
# function has on Lambda's main thread.
export RUST_MIN_STACK="${RUST_MIN_STACK:-8388608}"

# Every line the functions log, and every secret the tests make or read, are kept here
# for the audit below.
export OTP_TEST_REPORT_DIR="${CARGO_TARGET_DIR:-$PWD/target}/test-report"
rm -rf "$OTP_TEST_REPORT_DIR"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace "$@" 2>&1 | tee "$log" || status=$?
if [ $# -eq 0 ]; then
    # The load run, alone: 50 callers against the local AWS, then the invariants.
    cargo test -p otp-tests --test service -- --ignored load:: 2>&1 | tee -a "$log" || status=$?
    # The contract: openapi.json against the local server, by Schemathesis; then the
    # clients people already run: Twilio's own SDK against the local server.
    scripts/contract.sh || status=$?
    scripts/twilio-sdk.sh || status=$?
fi
totals=$(awk '/^test result: / { passed += $4; failed += $6 } END { printf "%d passed, %d failed", passed, failed }' "$log")
echo "tests: $totals"
# The whole suite's logs must show no code, key, secret, token or destination in clear.
if [ $# -eq 0 ]; then
    cargo run --quiet -p otp-tests --bin audit-logs -- "$OTP_TEST_REPORT_DIR" || status=1
    for figures in hostile-events hostile pumping load contract twilio-sdk; do
        cat "$OTP_TEST_REPORT_DIR/$figures.txt" 2>/dev/null || { echo "no $figures figures: that test did not finish"; status=1; }
    done
fi
exit "$status"

#!/usr/bin/env bash
# Runs every test: the unit tests, and the functions end to end against a local AWS
# (moto, which the test binary starts on a free loopback port and stops when it exits).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
ensure_python_requirements tests/requirements.txt
export OTP_PYTHON="$OTP_VENV/bin/python"
exec cargo test --workspace "$@"

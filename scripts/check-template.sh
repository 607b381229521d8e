#!/usr/bin/env bash
# Lints template.yaml with `sam validate --lint` (offline).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
ensure_python_requirements scripts/requirements-build.txt
exec "$OTP_VENV/bin/sam" validate --lint --region us-east-1

#!/usr/bin/env bash
# Static checks of template.yaml by checkov (its CloudFormation checks, which read SAM
# too): fails on any failed check. A check the template does not meet on purpose is
# skipped on its resource, with the reason, under `Metadata: checkov: skip:`. Checkov
# lives in a virtual environment of its own beside the others (its pinned dependencies do
# not fit the SAM CLI's), and runs offline: no platform download, no version check.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
OTP_VENV="$OTP_HOME/checkov" ensure_python_requirements scripts/checkov-requirements.txt

export BC_SKIP_MAPPING=TRUE
export CKV_SKIP_PACKAGE_UPDATE_CHECK=true
report="$(mktemp)"
trap 'rm -f "$report"' EXIT
status=0
"$OTP_HOME/checkov/bin/checkov" --file template.yaml --framework cloudformation \
    --skip-download --quiet --compact | tee "$report" || status=$?
# A template checkov could not read passes nothing and fails nothing: that is a failure too.
if ! grep -q '^Passed checks: [1-9]' "$report"; then
    echo "checkov passed no check of template.yaml" >&2
    status=1
fi
exit "$status"

#!/usr/bin/env bash
# Packages every function for Lambda: `sam validate --lint`, then `sam build` (cargo-lambda,
# with zig as the linker) into .aws-sam/build. Builds for arm64, the template's default,
# where the aarch64 standard library is installed, and for x86_64 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
ensure_python_requirements scripts/requirements-build.txt
# cargo-lambda finds zig through the ziglang package of this environment's python.
export PATH="$OTP_VENV/bin:$PATH"

architecture="${ARCHITECTURE:-}"
if [ -z "$architecture" ]; then
    if rustup target list --installed 2>/dev/null | grep -q '^aarch64-unknown-linux-gnu$'; then
        architecture=arm64
    else
        architecture=x86_64
        echo "the aarch64 standard library is not installed: building for x86_64" >&2
    fi
fi

sam validate --lint --region us-east-1
sam build --parameter-overrides "Architecture=$architecture"
for bootstrap in .aws-sam/build/*/bootstrap; do
    printf '%-40s %8d bytes\n' "$bootstrap" "$(stat -c %s "$bootstrap")"
done

# What each package links, checked in the artefacts themselves: verify sends nothing, only
# send-otp and generate send email, and only send-otp sends WhatsApp.
status=0
links() { grep -c "$2" <(strings ".aws-sam/build/$1/bootstrap") || true; }
for function in RegisterFunction ResendFunction VerifyFunction; do
    if [ "$(links "$function" aws_sdk_sesv2)" != 0 ]; then
        echo "$function links the SESv2 client, which it never calls" >&2
        status=1
    fi
done
if [ "$(links VerifyFunction aws_sdk_sns)" != 0 ]; then
    echo "VerifyFunction links the SNS client, which it never calls" >&2
    status=1
fi
# WhatsApp (AWS End User Messaging Social) is send-otp's alone.
if [ "$(links SendOtpFunction aws_sdk_socialmessaging)" = 0 ]; then
    echo "SendOtpFunction does not link the WhatsApp client its configurations need" >&2
    status=1
fi
for function in RegisterFunction ResendFunction VerifyFunction GenerateFunction; do
    if [ "$(links "$function" aws_sdk_socialmessaging)" != 0 ]; then
        echo "$function links the WhatsApp client, which it never calls" >&2
        status=1
    fi
done
exit "$status"

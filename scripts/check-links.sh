#!/usr/bin/env bash
# Each function links only the AWS SDK crates it calls: verify sends nothing, so it must
# not depend on SNS or SES; register and resend send SMS only; send-otp and generate send
# SMS and email; send-otp alone sends WhatsApp (AWS End User Messaging Social) and places
# calls (AWS End User Messaging SMS and Voice).
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
forbid() {
    local package="$1" crate="$2"
    if cargo tree --quiet -p "$package" -e normal --prefix none | grep -q "^$crate "; then
        echo "$package depends on $crate, which it never calls" >&2
        status=1
    fi
}
require() {
    local package="$1" crate="$2"
    if ! cargo tree --quiet -p "$package" -e normal --prefix none | grep -q "^$crate "; then
        echo "$package does not depend on $crate" >&2
        status=1
    fi
}
for function in register resend verify send-otp generate; do
    require "$function" aws-sdk-dynamodb
done
forbid verify aws-sdk-sns
forbid verify aws-sdk-sesv2
require register aws-sdk-sns
require resend aws-sdk-sns
forbid register aws-sdk-sesv2
forbid resend aws-sdk-sesv2
for function in send-otp generate; do
    require "$function" aws-sdk-sns
    require "$function" aws-sdk-sesv2
done
require send-otp aws-sdk-socialmessaging
require send-otp aws-sdk-pinpointsmsvoicev2
for function in register resend verify generate; do
    forbid "$function" aws-sdk-socialmessaging
    forbid "$function" aws-sdk-pinpointsmsvoicev2
done
[ "$status" -eq 0 ] && echo "ok: verify links DynamoDB only; register and resend add SNS; send-otp and generate add SNS and SESv2; send-otp alone adds WhatsApp and calls"
exit "$status"

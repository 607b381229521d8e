"""Twilio Verify v2 through Twilio's own Python SDK, pointed at the local server by
replacing the Verify domain's base URL: the flows a migrating team runs.

Reads the local server's URL and the demo's credentials from the environment
(scripts/twilio-sdk.sh sets them), and each code from the dev inbox. Exits non-zero on the
first flow that does not hold; prints one line per flow.
"""

import json
import os
import re
import sys
import urllib.request

from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

API = os.environ["OTP_LOCAL_URL"]
ACCOUNT_SID = os.environ["TWILIO_ACCOUNT_SID"]
AUTH_TOKEN = os.environ["TWILIO_AUTH_TOKEN"]
SERVICE_SID = os.environ["VERIFY_SERVICE_SID"]
EMAIL_SERVICE_SID = os.environ["VERIFY_EMAIL_SERVICE_SID"]


def client(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN):
    twilio = Client(account_sid, auth_token)
    # The one change a migrating team makes.
    twilio.verify.base_url = API
    return twilio


def code_for(to):
    with urllib.request.urlopen(API + "/_dev/inbox.json") as answer:
        inbox = json.load(answer)
    for message in inbox["messages"]:  # newest first
        if message["to"] == to:
            return re.search(r"\d{6}", message["text"]).group(0)
    raise AssertionError(f"nothing delivered to {to}")


def refused(call, code, status):
    try:
        call()
    except TwilioRestException as error:
        assert (error.code, error.status) == (code, status), f"expected {code}/{status}, got {error.code}/{error.status}: {error.msg}"
        return error
    raise AssertionError(f"expected Twilio error {code}, got a success")


def wrong(code):
    return "000000" if code != "000000" else "111111"


FLOWS = []


def flow(function):
    FLOWS.append(function)
    return function


@flow
def create_wrong_right_and_after_approval():
    service = client().verify.v2.services(SERVICE_SID)
    to = "+919876543201"
    verification = service.verifications.create(to=to, channel="sms")
    assert verification.status == "pending" and verification.sid.startswith("VE"), verification.sid
    assert verification.to == to and verification.channel == "sms" and verification.valid is False
    # The SID forms Twilio's SDKs check, as the resource shows them.
    assert re.fullmatch(r"AC[0-9a-f]{32}", verification.account_sid), verification.account_sid
    assert (verification.account_sid, verification.service_sid) == (ACCOUNT_SID, SERVICE_SID), verification.service_sid
    code = code_for(to)
    check = service.verification_checks.create(to=to, code=wrong(code))
    assert (check.status, check.valid) == ("pending", False), check.status
    check = service.verification_checks.create(to=to, code=code)
    assert (check.status, check.valid, check.sid) == ("approved", True, verification.sid), check.status
    # Twilio: once approved, the verification is no longer there to check.
    refused(lambda: service.verification_checks.create(to=to, code=code), 20404, 404)
    fetched = service.verifications(verification.sid).fetch()
    assert fetched.status == "approved", fetched.status


@flow
def check_by_verification_sid():
    service = client().verify.v2.services(SERVICE_SID)
    to = "+919876543202"
    verification = service.verifications.create(to=to, channel="sms")
    check = service.verification_checks.create(verification_sid=verification.sid, code=code_for(to))
    assert check.status == "approved", check.status


@flow
def cancel():
    service = client().verify.v2.services(SERVICE_SID)
    to = "+919876543203"
    verification = service.verifications.create(to=to, channel="sms")
    code = code_for(to)
    canceled = service.verifications(verification.sid).update(status="canceled")
    assert canceled.status == "canceled", canceled.status
    refused(lambda: service.verification_checks.create(to=to, code=code), 20404, 404)


@flow
def max_check_attempts():
    service = client().verify.v2.services(SERVICE_SID)
    to = "+919876543204"
    service.verifications.create(to=to, channel="sms")
    code = code_for(to)
    for _ in range(5):
        assert service.verification_checks.create(to=to, code=wrong(code)).status == "pending"
    refused(lambda: service.verification_checks.create(to=to, code=code), 60202, 429)


@flow
def send_budget():
    service = client().verify.v2.services(SERVICE_SID)
    to = "+919876543205"
    service.verifications.create(to=to, channel="sms")
    # Within the destination's cooldown.
    refused(lambda: service.verifications.create(to=to, channel="sms"), 60203, 429)


@flow
def email_channel():
    service = client().verify.v2.services(EMAIL_SERVICE_SID)
    to = "twilio-sdk@example.com"
    verification = service.verifications.create(to=to, channel="email")
    assert verification.channel == "email", verification.channel
    check = service.verification_checks.create(to=to, code=code_for(to))
    assert check.status == "approved", check.status
    # A channel the service does not have.
    refused(lambda: service.verifications.create(to="+919876543206", channel="sms"), 60223, 400)


@flow
def bad_credentials():
    service = client(auth_token="not-the-token").verify.v2.services(SERVICE_SID)
    refused(lambda: service.verifications.create(to="+919876543207", channel="sms"), 20003, 401)
    refused(lambda: client(account_sid="ACnobody").verify.v2.services(SERVICE_SID).verifications.create(
        to="+919876543207", channel="sms"), 20003, 401)


def main():
    failed = 0
    for function in FLOWS:
        try:
            function()
            print(f"ok    {function.__name__}")
        except Exception as error:  # noqa: BLE001 - every failure is reported, then counted
            failed += 1
            print(f"FAIL  {function.__name__}: {error!r}")
    print(f"twilio SDK flows: {len(FLOWS) - failed} of {len(FLOWS)} passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

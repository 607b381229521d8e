"""Twilio Verify v2 through Twilio's own Python SDK, pointed at the local server by
replacing the Verify domain's base URL: the flows a migrating team runs, with the auth
token, then those that send and check with an API key, as production code authenticates.

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
API_KEY = os.environ["TWILIO_API_KEY"]
API_SECRET = os.environ["TWILIO_API_SECRET"]
SERVICE_SID = os.environ["VERIFY_SERVICE_SID"]
EMAIL_SERVICE_SID = os.environ["VERIFY_EMAIL_SERVICE_SID"]


# How the flows authenticate: by default the auth token; an API key pass sets these.
CREDENTIALS = {"username": ACCOUNT_SID, "password": AUTH_TOKEN, "pass": 0}


def client(account_sid=None, auth_token=None):
    if account_sid or auth_token:
        twilio = Client(account_sid or ACCOUNT_SID, auth_token or AUTH_TOKEN)
    else:
        # With an API key the account SID is passed beside it, as Twilio's SDKs take it.
        twilio = Client(CREDENTIALS["username"], CREDENTIALS["password"], ACCOUNT_SID)
    # The one change a migrating team makes.
    twilio.verify.base_url = API
    return twilio


def phone(n):
    """A number of its own for flow `n` in each pass (the destination's cooldown)."""
    return f"+91987654{3200 + 10 * CREDENTIALS['pass'] + n}"


def code_for(to):
    with urllib.request.urlopen(API + "/_dev/inbox.json") as answer:
        inbox = json.load(answer)
    for message in inbox["messages"]:  # newest first
        if message["to"] == to:
            # Six to ten digits: a service's own length.
            return re.search(r"\d{6,10}", message["text"]).group(0)
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


def send_and_check(service, to, channel):
    """A verification sent to `to` by `channel`, then approved with the code delivered."""
    verification = service.verifications.create(to=to, channel=channel)
    assert verification.channel == channel, verification.channel
    check = service.verification_checks.create(to=to, code=code_for(to))
    assert (check.status, check.channel) == ("approved", channel), (check.status, check.channel)


FLOWS = []
KEY_FLOWS = []


def flow(function):
    FLOWS.append(function)
    return function


def with_api_key_too(function):
    """A flow run again with an API key (only those that send and check: each send counts
    against the local server's per-address budget)."""
    KEY_FLOWS.append(function)
    return function


@with_api_key_too
@flow
def create_wrong_right_and_after_approval():
    service = client().verify.v2.services(SERVICE_SID)
    to = phone(1)
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
    to = phone(2)
    verification = service.verifications.create(to=to, channel="sms")
    check = service.verification_checks.create(verification_sid=verification.sid, code=code_for(to))
    assert check.status == "approved", check.status


@flow
def cancel():
    service = client().verify.v2.services(SERVICE_SID)
    to = phone(3)
    verification = service.verifications.create(to=to, channel="sms")
    code = code_for(to)
    canceled = service.verifications(verification.sid).update(status="canceled")
    assert canceled.status == "canceled", canceled.status
    refused(lambda: service.verification_checks.create(to=to, code=code), 20404, 404)


@flow
def max_check_attempts():
    service = client().verify.v2.services(SERVICE_SID)
    to = phone(4)
    service.verifications.create(to=to, channel="sms")
    code = code_for(to)
    for _ in range(5):
        assert service.verification_checks.create(to=to, code=wrong(code)).status == "pending"
    refused(lambda: service.verification_checks.create(to=to, code=code), 60202, 429)


@flow
def send_budget():
    service = client().verify.v2.services(SERVICE_SID)
    to = phone(5)
    service.verifications.create(to=to, channel="sms")
    # Within the destination's cooldown.
    refused(lambda: service.verifications.create(to=to, channel="sms"), 60203, 429)


@with_api_key_too
@flow
def email_channel():
    service = client().verify.v2.services(EMAIL_SERVICE_SID)
    send_and_check(service, f"twilio-sdk-{CREDENTIALS['pass']}@example.com", "email")
    # A channel the service does not have.
    refused(lambda: service.verifications.create(to=phone(6), channel="sms"), 60223, 400)


@with_api_key_too
@flow
def sms_and_email_on_one_service():
    service = client().verify.v2.services(SERVICE_SID)
    send_and_check(service, f"twilio-sdk-both-{CREDENTIALS['pass']}@example.com", "email")
    send_and_check(service, phone(8), "sms")
    # A channel the service does not have.
    refused(lambda: service.verifications.create(to=phone(7), channel="whatsapp"), 60223, 400)


@with_api_key_too
@flow
def services_created_listed_updated_and_deleted():
    """A service made at start-up, as applications do: sends by SMS and by email in its
    name, is fetched, listed page by page, updated, and deleted."""
    services = client().verify.v2.services
    name = f"SDK Shop {CREDENTIALS['pass']}"
    service = services.create(friendly_name=name, code_length=8, lookup_enabled=True)
    assert re.fullmatch(r"VA[0-9a-f]{32}", service.sid), service.sid
    assert (service.friendly_name, service.code_length, service.lookup_enabled) == (name, 8, True)
    assert service.account_sid == ACCOUNT_SID, service.account_sid
    to = phone(9)
    services(service.sid).verifications.create(to=to, channel="sms")
    with urllib.request.urlopen(API + "/_dev/inbox.json") as answer:
        text = next(m["text"] for m in json.load(answer)["messages"] if m["to"] == to)
    code = re.search(r"\d{8}", text).group(0)
    assert text.startswith(f"{code} is your {name} verification code. It expires in "), text
    check = services(service.sid).verification_checks.create(to=to, code=code)
    assert check.status == "approved", check.status
    send_and_check(services(service.sid), f"twilio-sdk-service-{CREDENTIALS['pass']}@example.com", "email")
    fetched = services(service.sid).fetch()
    assert (fetched.sid, fetched.friendly_name) == (service.sid, name)
    # Every service of the account, one per page: the SDK follows next_page_url.
    listed = [s.sid for s in services.list(page_size=1)]
    assert service.sid in listed and SERVICE_SID in listed, listed
    assert len(listed) == len(set(listed)), listed
    updated = services(service.sid).update(friendly_name=f"{name} 2", code_length=6)
    assert (updated.friendly_name, updated.code_length, updated.lookup_enabled) == (f"{name} 2", 6, True)
    assert services(service.sid).delete() is True
    refused(lambda: services(service.sid).fetch(), 20404, 404)
    # Below this deployment's shortest code: Twilio's invalid-parameter error.
    error = refused(lambda: services.create(friendly_name=name, code_length=5), 60200, 400)
    assert "at least 6" in error.msg, error.msg


def inbox_text(to):
    """The newest message delivered to `to`."""
    with urllib.request.urlopen(API + "/_dev/inbox.json") as answer:
        return next(m["text"] for m in json.load(answer)["messages"] if m["to"] == to)


@flow
def languages_by_locale_and_country():
    """A service made by the API writes its built-in text in the Locale asked for (Spanish),
    else in the number's country's (French to +33); a Locale with no text is Twilio's
    20404, and nothing is sent."""
    services = client().verify.v2.services
    name = "Tienda"
    service = services.create(friendly_name=name)
    try:
        verifications = services(service.sid).verifications
        spanish_to = "+919876543300"
        verifications.create(to=spanish_to, channel="sms", locale="es")
        text = inbox_text(spanish_to)
        assert re.fullmatch(rf"\d{{6}} es tu código de {name}\. Expira en \d+ min\. No lo compartas\.", text), text
        french_to = "+33612345600"
        verifications.create(to=french_to, channel="sms")
        text = inbox_text(french_to)
        expected = rf"\d{{6}} est votre code de vérification pour {name}\. Il expire dans \d+ minutes\. Ne le partagez avec personne\."
        assert re.fullmatch(expected, text), text
        check = services(service.sid).verification_checks.create(to=french_to, code=code_for(french_to))
        assert check.status == "approved", check.status
        unsent = "+919876543301"
        refused(lambda: verifications.create(to=unsent, channel="sms", locale="xx"), 20404, 404)
        with urllib.request.urlopen(API + "/_dev/inbox.json") as answer:
            assert all(m["to"] != unsent for m in json.load(answer)["messages"])
    finally:
        services(service.sid).delete()


@flow
def call_speaks_a_code_that_verifies():
    """A service made by the API calls a landline (Channel=call) and speaks the code twice,
    digit by digit; the spoken code verifies; a Locale no voice speaks is 60331."""
    services = client().verify.v2.services
    service = services.create(friendly_name="Llamada")
    try:
        verifications = services(service.sid).verifications
        to = "+441212345600"
        verification = verifications.create(to=to, channel="call")
        assert verification.channel == "call", verification.channel
        with urllib.request.urlopen(API + "/_dev/inbox.json") as answer:
            message = next(m for m in json.load(answer)["messages"] if m["to"] == to)
        assert (message["channel"], message["voice"]) == ("call", "JOANNA"), message
        spoken = re.search(r"verification code: ((?:\d )+\d)\.", message["text"]).group(1)
        expected = f"Here is your Llamada verification code: {spoken}. Once more: {spoken}."
        assert message["text"] == expected, message["text"]
        check = services(service.sid).verification_checks.create(to=to, code=spoken.replace(" ", ""))
        assert (check.status, check.channel) == ("approved", "call"), (check.status, check.channel)
        refused(lambda: verifications.create(to="+919876543302", channel="call", locale="hi"), 60331, 400)
    finally:
        services(service.sid).delete()


@flow
def attempts_listed_and_summarised():
    """The messages the flows above delivered, as Twilio's Verification Attempts: listed a
    page at a time (the SDK follows next_page_url), filtered, fetched and summarised."""
    attempts = client().verify.v2.verification_attempts
    listed = list(attempts.list(page_size=2))
    assert len(listed) >= 4, len(listed)
    assert all(re.fullmatch(r"VL[0-9a-f]{32}", a.sid) for a in listed), [a.sid for a in listed]
    assert all(a.account_sid == ACCOUNT_SID for a in listed)
    statuses = {a.conversion_status for a in listed}
    assert statuses == {"converted", "unconverted"}, statuses
    newest_first = [a.date_created for a in listed]
    assert newest_first == sorted(newest_first, reverse=True), newest_first
    # The first flow's number: its verification was approved.
    mine = list(attempts.list(channel_data_to=phone(1), status="converted"))
    assert mine and all(a.channel_data["to"] == phone(1) for a in mine), mine
    fetched = attempts(mine[0].sid).fetch()
    assert (fetched.sid, fetched.verification_sid) == (mine[0].sid, mine[0].verification_sid)
    summary = client().verify.v2.verification_attempts_summary().fetch()
    assert summary.total_attempts == len(listed), (summary.total_attempts, len(listed))
    converted = sum(a.conversion_status == "converted" for a in listed)
    assert (summary.total_converted, summary.total_unconverted) == (converted, len(listed) - converted)
    rate = round(100 * converted / len(listed), 2)
    assert float(summary.conversion_rate_percentage) == rate, summary.conversion_rate_percentage
    only_email = client().verify.v2.verification_attempts_summary().fetch(channel="email")
    assert 0 < only_email.total_attempts < summary.total_attempts, only_email.total_attempts


@flow
def bad_credentials():
    service = client(auth_token="not-the-token").verify.v2.services(SERVICE_SID)
    refused(lambda: service.verifications.create(to=phone(7), channel="sms"), 20003, 401)
    refused(lambda: client(account_sid="ACnobody").verify.v2.services(SERVICE_SID).verifications.create(
        to=phone(7), channel="sms"), 20003, 401)


@with_api_key_too
def api_key_with_a_wrong_secret():
    twilio = Client(API_KEY, API_SECRET.rsplit(".", 1)[0] + ".0", ACCOUNT_SID)
    twilio.verify.base_url = API
    service = twilio.verify.v2.services(SERVICE_SID)
    refused(lambda: service.verifications.create(to=phone(7), channel="sms"), 20003, 401)


def main():
    runs = [(function, "auth token") for function in FLOWS]
    runs += [(function, "API key") for function in KEY_FLOWS]
    failed = 0
    for function, credentials in runs:
        if credentials == "API key":
            CREDENTIALS.update(username=API_KEY, password=API_SECRET, **{"pass": 1})
        try:
            function()
            print(f"ok    {function.__name__} ({credentials})")
        except Exception as error:  # noqa: BLE001 - every failure is reported, then counted
            failed += 1
            print(f"FAIL  {function.__name__} ({credentials}): {error!r}")
    print(f"twilio SDK flows: {len(runs) - failed} of {len(runs)} passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

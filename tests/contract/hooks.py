"""What openapi.json says beyond JSON Schema's own words, for the generator.

A phone number is valid by libphonenumber's rules for its country, which no pattern can
say: the formats `e164`, `calling-code` and `national-number` draw from numbers valid under
those rules, in every written form the service accepts (with or without `+`, with or
without the national trunk prefix, a national number already carrying its country code).
A calling code and a national number are valid together only, so a generated request
that is meant to be valid gets the calling code of its number.
"""

import schemathesis
from hypothesis import strategies as st
from schemathesis.core.parameters import ParameterLocation

# (calling code, national number, trunk prefix or None): mobile numbers of fourteen countries,
# each of whose forms reads as that number alone (a German mobile written after its `49`
# is also a valid German landline, which the service takes it for and refuses).
NUMBERS = [
    ("91", "8123456789", "0"),
    ("91", "9876543210", "0"),
    ("1", "2015550123", None),
    ("44", "7400123456", "0"),
    ("234", "8021234567", "0"),
    ("34", "612345678", None),
    ("33", "612345678", "0"),
    ("55", "11961234567", None),
    ("61", "412345678", "0"),
    ("65", "81234567", None),
    ("971", "501234567", "0"),
    ("27", "711234567", "0"),
    ("52", "5512345678", None),
    ("92", "3001234567", "0"),
]


def national_forms(code, national, trunk):
    forms = [national, code + national]
    if trunk:
        forms.append(trunk + national)
    return forms


# Each national form, and the calling code it belongs to.
NATIONAL = {form: code for code, national, trunk in NUMBERS for form in national_forms(code, national, trunk)}
E164 = ["+" + code + national for code, national, _ in NUMBERS]

schemathesis.openapi.format("e164", st.sampled_from(E164))
schemathesis.openapi.format(
    "calling-code",
    st.sampled_from(sorted({code for code, _, _ in NUMBERS})).flatmap(lambda c: st.sampled_from([c, "+" + c])),
)
schemathesis.openapi.format("national-number", st.sampled_from(sorted(NATIONAL)))

# The local server's demo configuration sends SMS: its sendOTP takes the mobile number
# (the document's `email` alternative is an email configuration's), and as Twilio's
# service it takes the `sms` channel and a phone number.
SMS_CONFIGURATION_SEND = "/otp/{otp_config_uid}/sendOTP"
SMS_SERVICE_CREATE = "/v2/Services/{ServiceSid}/Verifications"
SERVICE_CHECK = "/v2/Services/{ServiceSid}/VerificationCheck"
PHONE_PAIRS = (("countryCode", "phone_number"), ("countryCode", "mobileNumber"))
FULL_NUMBERS = ("phoneNumber", "phone-number")


def valid_pair(body, code_field, number_field):
    """The pair's number as drawn when it is one of ours, with its own calling code."""
    number = body.get(number_field)
    code = body.get(code_field)
    if not isinstance(number, str) or number not in NATIONAL:
        number = sorted(NATIONAL)[len(str(number)) % len(NATIONAL)]
    plus = "+" if isinstance(code, str) and code.startswith("+") else ""
    body[code_field] = plus + NATIONAL[number]
    body[number_field] = number


@schemathesis.hook
def map_case(ctx, case):
    meta = case.meta
    body = case.body
    if meta is None or meta.is_negative_at(ParameterLocation.BODY) or not isinstance(body, dict):
        return case
    if ctx.operation.path == SMS_CONFIGURATION_SEND:
        body.setdefault("countryCode", "+91")
        body.setdefault("mobileNumber", "9876543210")
    if ctx.operation.path == SMS_SERVICE_CREATE and ctx.operation.method.upper() == "POST":
        body["Channel"] = "sms"
        if body.get("To") not in E164:
            body["To"] = E164[len(str(body.get("To"))) % len(E164)]
    # A check's `To` is a phone number or an address: a number drawn from its pattern alone
    # (`+0`) is not one by libphonenumber's rules.
    if ctx.operation.path == SERVICE_CHECK and isinstance(body.get("To"), str):
        if body["To"].startswith("+") and body["To"] not in E164:
            body["To"] = E164[len(body["To"]) % len(E164)]
    for code_field, number_field in PHONE_PAIRS:
        if code_field in body and number_field in body:
            valid_pair(body, code_field, number_field)
    for container in (body, body.get("user")):
        if isinstance(container, dict):
            for field in FULL_NUMBERS:
                if isinstance(container.get(field), str) and container[field] not in E164:
                    container[field] = E164[len(container[field]) % len(E164)]
    return case

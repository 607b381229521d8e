"""The secrets of a run against the local server, for the log audit: the demo's
credentials and keys (from the environment start_local_server set) and every code the
local server delivered (from its dev inbox). Prints `kind<TAB>value` lines."""

import json
import os
import re
import sys
import urllib.request

KINDS = [
    ("jwt", "OTP_DEMO_JWT"),
    ("client secret", "OTP_DEMO_CLIENT_SECRET"),
    ("api key", "OTP_DEMO_API_KEY"),
    ("twilio api key secret", "TWILIO_API_SECRET"),
    ("hmac key", "OTP_HMAC_KEYS"),
    ("jwt secret", "JWT_SECRET"),
]

for kind, name in KINDS:
    value = os.environ.get(name)
    if value:
        print(f"{kind}\t{value}")
        if name == "OTP_DEMO_API_KEY":
            print(f"api key secret\t{value.split('.', 1)[-1]}")
with urllib.request.urlopen(sys.argv[1] + "/_dev/inbox.json") as answer:
    inbox = json.load(answer)
for message in inbox["messages"]:
    for code in sorted(set(re.findall(r"\d{6,}", message.get("text", "")))):
        print(f"code\t{code}")

# Shared set-up for the scripts: where the Python tools live, and installing them.
# Sourced, not run. The virtual environment lives outside the checkout, so that a fresh
# clone on the same machine reuses it.

OTP_HOME="${OTP_HOME:-$HOME/.cache/otp-service}"
OTP_VENV="${OTP_VENV:-$OTP_HOME/venv}"
export SAM_CLI_TELEMETRY=0

# ensure_python_requirements FILE: installs FILE into the virtual environment, once per
# version of FILE.
ensure_python_requirements() {
    local requirements="$1"
    local stamp="$OTP_VENV/.installed-$(basename "$requirements")"
    local digest
    digest="$(sha256sum "$requirements" | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
        return 0
    fi
    if [ ! -x "$OTP_VENV/bin/python" ]; then
        echo "creating the Python environment in $OTP_VENV" >&2
        python3 -m venv "$OTP_VENV"
    fi
    echo "installing $requirements" >&2
    "$OTP_VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    echo "$digest" > "$stamp"
}

# start_local_server DIR: serves the API with scripts/dev.sh on a free port (its ready line
# in DIR/ready, its log in DIR/server.log), waits until it answers, and exports where it
# serves and the demo's credentials: OTP_LOCAL_URL, OTP_DEMO_JWT (KGen's),
# OTP_DEMO_SESSION (a full Bridgekeeper session), OTP_DEMO_CLIENT_ID,
# OTP_DEMO_CLIENT_SECRET, OTP_DEMO_API_KEY, OTP_DEMO_CONFIG_UID, and for Twilio's SDKs
# TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_API_KEY, TWILIO_API_SECRET,
# VERIFY_SERVICE_SID, VERIFY_EMAIL_SERVICE_SID.
# stop_local_server ends it (and the local AWS it started).
start_local_server() {
    local dir="$1"
    PORT=0 bash scripts/dev.sh >"$dir/ready" 2>"$dir/server.log" &
    OTP_LOCAL_PID=$!
    local _
    for _ in $(seq 1 600); do
        grep -q '"url"' "$dir/ready" 2>/dev/null && break
        if ! kill -0 "$OTP_LOCAL_PID" 2>/dev/null; then
            cat "$dir/server.log" >&2
            echo "the local server did not start" >&2
            return 1
        fi
        sleep 0.5
    done
    grep -q '"url"' "$dir/ready" || { echo "the local server did not start in 300 s" >&2; return 1; }
    eval "$("$OTP_VENV/bin/python" - "$dir/ready" <<'PY'
import json, shlex, sys
ready = json.loads(next(line for line in open(sys.argv[1]) if '"url"' in line))
demo = ready["demo"]
values = {
    "OTP_LOCAL_URL": ready["url"], "OTP_DEMO_JWT": demo["jwt"], "OTP_DEMO_SESSION": demo["qt_auth"],
    "OTP_DEMO_CLIENT_ID": demo["client_id"],
    "OTP_DEMO_CLIENT_SECRET": demo["client_secret"], "OTP_DEMO_API_KEY": demo["api_key"],
    "OTP_DEMO_CONFIG_UID": demo["otp_config_uid"], "TWILIO_ACCOUNT_SID": demo["account_sid"],
    "TWILIO_AUTH_TOKEN": demo["client_secret"], "TWILIO_API_KEY": demo["twilio_api_key"],
    "TWILIO_API_SECRET": demo["twilio_api_secret"], "VERIFY_SERVICE_SID": demo["service_sid"],
    "VERIFY_EMAIL_SERVICE_SID": demo["email_service_sid"],
}
for name, value in values.items():
    print(f"export {name}={shlex.quote(value)}")
PY
)"
}

stop_local_server() {
    if [ -n "${OTP_LOCAL_PID:-}" ]; then
        kill -TERM "$OTP_LOCAL_PID" 2>/dev/null || true
        wait "$OTP_LOCAL_PID" 2>/dev/null || true
        OTP_LOCAL_PID=""
    fi
}

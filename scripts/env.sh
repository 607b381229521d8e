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

#!/usr/bin/env bash
# The benchmark: builds each function's release binary alone (so its features resolve as
# in `sam build`) and the floor's, zips each as its Lambda artefact, then runs them as
# Lambda does, through a Runtime API emulator, against the local AWS behind a fixed
# latency per request, and prints the figures (see docs/benchmarks.md).
#
#   scripts/bench.sh            the full run: 11 cold starts, 250 warm invocations each
#   scripts/bench.sh --short    a quick run (CI): 3 cold starts, 20 warm invocations each
#
# BENCH_LATENCY_MS sets the latency added to every AWS request (5 by default).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
ensure_python_requirements tests/requirements.txt
export OTP_PYTHON="$OTP_VENV/bin/python"

case "${1:-}" in
    --short) export BENCH_SHORT=1 ;;
    "") export BENCH_SHORT=0 ;;
    *) echo "usage: scripts/bench.sh [--short]" >&2; exit 2 ;;
esac

target="${CARGO_TARGET_DIR:-target}"
for package in bench-floor register resend verify send-otp generate; do
    echo "building $package (release)" >&2
    cargo build --release --quiet -p "$package"
done
# The harness itself is not what is measured: an ordinary build.
cargo build --quiet -p otp-bench

bench_dir="$target/bench"
mkdir -p "$bench_dir"
for binary in bench-floor register resend verify send-otp generate; do
    "$OTP_PYTHON" - "$target/release/$binary" "$bench_dir/$binary.zip" <<'PY'
import sys, zipfile
source, archive = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
    info = zipfile.ZipInfo("bootstrap")
    info.external_attr = 0o755 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    with open(source, "rb") as f:
        zf.writestr(info, f.read(), compresslevel=9)
PY
done

BENCH_BIN_DIR="$target/release" BENCH_ZIP_DIR="$bench_dir" BENCH_OUT="$bench_dir/figures.json" \
    "$target/debug/otp-bench"

#!/usr/bin/env bash
# Checks the dependency tree against deny.toml: licences, banned crates, sources.
# cargo-deny is installed once from crates.io under ~/.cache/otp-service/tools and kept
# there between runs. Advisories are not checked here: their database is fetched from
# the network (`cargo deny check advisories` where it is reachable).
set -euo pipefail
cd "$(dirname "$0")/.."
tools="$HOME/.cache/otp-service/tools"
version="0.20.2"
deny="$tools/bin/cargo-deny"
if ! [ -x "$deny" ] || ! "$deny" --version | grep -q "$version"; then
    cargo install --locked --quiet cargo-deny --version "$version" --root "$tools"
fi
"$deny" --version
"$deny" check --hide-inclusion-graph licenses bans sources

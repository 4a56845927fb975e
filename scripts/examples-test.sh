#!/usr/bin/env bash
# Runs every example under examples/ (each checks what it shows and fails otherwise), so the
# examples in the documentation keep working.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
for example in examples/*.sh; do
    log=$(mktemp)
    if "$example" >"$log" 2>&1; then
        echo "examples: $example ok"
    else
        echo "examples: $example FAILED, log follows" >&2
        tail -n 40 "$log" >&2
        rm -f "$log"
        exit 1
    fi
    rm -f "$log"
done
echo "examples: PASS in $((SECONDS - started)) s"

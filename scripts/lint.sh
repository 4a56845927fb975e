#!/usr/bin/env bash
# Fails when any Swift file breaks the .swift-format rules.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files -co --exclude-standard -- '*.swift')
if ((${#files[@]} == 0)); then
    echo "lint: no Swift files"
    exit 0
fi
swift format lint --strict --configuration .swift-format "${files[@]}"
echo "lint: ${#files[@]} files clean"

#!/usr/bin/env bash
# Builds every libFuzzer target under Fuzz/ and runs each for a bounded time.
# FUZZ_SECONDS (per target, default: 60 s shared by all targets) lengthens the run on demand.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t targets < <(find Fuzz -mindepth 1 -maxdepth 1 -type d -name 'Fuzz*' -printf '%f\n' 2>/dev/null | sort)
if ((${#targets[@]} == 0)); then
    echo "fuzz: no fuzz targets under Fuzz/"
    exit 0
fi

total=${FUZZ_TOTAL_SECONDS:-60}
per=${FUZZ_SECONDS:-$((total / ${#targets[@]}))}
((per < 5)) && per=5
scratch=.build-fuzz
export SMEG_FUZZ=1
export SWIFT_BACKTRACE=enable=no

# The manifest declares one target per Fuzz/ directory, which SwiftPM's manifest cache does not
# see: a checkout at a path that once had fewer targets would reuse the old list.
for target in "${targets[@]}"; do
    swift build -c release --sanitize=fuzzer --manifest-cache none --product "$target" --scratch-path "$scratch" >/dev/null
done
bin=$(swift build -c release --sanitize=fuzzer --manifest-cache none --scratch-path "$scratch" --show-bin-path)

failed=0
for target in "${targets[@]}"; do
    corpus="Fuzz/$target/corpus"
    work=$(mktemp -d)
    [[ -d $corpus ]] && cp -r "$corpus/." "$work/"
    log=$(mktemp)
    if "$bin/$target" -max_total_time="$per" -max_len=65536 -rss_limit_mb=2048 \
        -artifact_prefix="$scratch/$target-" "$work" >"$log" 2>&1; then
        runs=$(grep -oE 'Done [0-9]+ runs' "$log" | tail -1 | grep -oE '[0-9]+' || echo "?")
        echo "fuzz: $target ok, $runs executions in ${per}s"
    else
        echo "fuzz: $target FAILED, log follows" >&2
        tail -40 "$log" >&2
        failed=1
    fi
    rm -rf "$work" "$log"
done
exit $failed

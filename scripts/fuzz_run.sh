#!/bin/sh
# scripts/fuzz_run.sh BUILD_DIR [SECONDS] - runs every libFuzzer target of a
# SC_FUZZ build for SECONDS (default 20) each, starting from its seed corpus
# fuzz/corpus/<name>/. New inputs go to a scratch directory, never into the
# repository's corpus; a crash leaves its input in BUILD_DIR/fuzz-artifacts/
# and fails the run (add it to the corpus as a regression input once fixed).
set -eu
build=${1:?usage: fuzz_run.sh BUILD_DIR [SECONDS]}
secs=${2:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
art="$build/fuzz-artifacts"
mkdir -p "$art"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT INT TERM

found=0
for bin in "$build"/fuzz/fuzz_*; do
    [ -x "$bin" ] && [ -f "$bin" ] || continue
    name=${bin##*/fuzz_}
    corpus="$root/fuzz/corpus/$name"
    [ -d "$corpus" ] || { echo "fuzz_run: no corpus $corpus for $bin" >&2; exit 1; }
    found=$((found + 1))
    mkdir -p "$scratch/$name"
    echo "fuzz_run: $name for ${secs}s"
    if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$art/${name}-" "$scratch/$name" "$corpus" >"$scratch/$name.log" 2>&1; then
        tail -n 60 "$scratch/$name.log" >&2
        echo "fuzz_run: $name FAILED; input in $art/" >&2
        exit 1
    fi
    grep -E '^stat::number_of_executed_units' "$scratch/$name.log" || true
done
[ "$found" -gt 0 ] || { echo "fuzz_run: no fuzz targets in $build/fuzz" >&2; exit 1; }
echo "fuzz_run: $found targets, ${secs}s each, no crash"

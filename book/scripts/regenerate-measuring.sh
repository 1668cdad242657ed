#!/usr/bin/env bash
# Runs the bench, full and quick, and stores both tables for the chapter
# "Measuring looplet", so the chapter shows a run, not typed figures.
# The full run takes several minutes; run it on a machine left alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build -q --release -p bench
out=book/src/generated
table() { grep -E "^(workload|---|[a-zA-Z0-9 ]|  counted)" | grep -vE "^(l/tokio|a rate|best, l/best|ratio to it|\(|wrote)"; }
{
    echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(uname -sr), $(rustc --version | cut -d' ' -f1-2)"
    target/release/bench 2>/dev/null | table
} > "$out/bench-full.txt"
target/release/bench --quick 2>/dev/null | table > "$out/bench-quick.txt"
echo "wrote $out/bench-full.txt and $out/bench-quick.txt"

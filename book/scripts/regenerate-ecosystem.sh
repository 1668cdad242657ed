#!/usr/bin/env bash
# Runs the measurements the chapter "Plugging into the ecosystem" shows, and
# stores their output for the book to include, so the chapter shows real
# figures from this machine, not typed ones:
#
# - examples/ten_thousand_requests.rs: 10,000 concurrent requests, hyper on
#   one looplet thread against a 500-thread blocking server;
# - the bench's hyper lines: hyper "hello" on looplet and on tokio's
#   current-thread runtime, requests per second and server CPU per request.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build -q --release -p examples --features hyper --example ten_thousand_requests
cargo build -q --release -p bench
out=book/src/generated
target/release/examples/ten_thousand_requests > "$out/ten_thousand_requests.md"
target/release/bench --only hyper 2>/dev/null | grep -E "^(workload|---|hyper)" > "$out/hyper_bench.txt"
echo "wrote $out/ten_thousand_requests.md and $out/hyper_bench.txt"

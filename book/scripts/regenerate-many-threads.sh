#!/usr/bin/env bash
# Runs examples/loop_per_core.rs (an echo server as one loop, as one loop
# per core, and on tokio's multi-thread runtime) and stores its table for
# the chapter "From one thread to many".
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build -q --release -p examples --features tokio --example loop_per_core
target/release/examples/loop_per_core > book/src/generated/loop_per_core.md
echo "wrote book/src/generated/loop_per_core.md"

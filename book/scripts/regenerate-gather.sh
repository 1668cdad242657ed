#!/usr/bin/env bash
# Runs examples/naive_gather.rs and stores its table of poll counts for the
# chapter on gather, so the book shows counts the code really made.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build -q --release --example naive_gather
target/release/examples/naive_gather > book/src/generated/gather_polls.md
echo "wrote book/src/generated/gather_polls.md"

#!/usr/bin/env bash
# Runs examples/trace_me.rs with LOOPLET_TRACE=1 and stores its trace for
# the chapter "Seeing inside the loop", so the book shows real output, not
# a hand-edited copy. Run it from anywhere after changing the trace.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build -q --example trace_me
LOOPLET_TRACE=1 target/debug/examples/trace_me 2> book/src/generated/trace.txt >/dev/null
echo "wrote book/src/generated/trace.txt ($(wc -l < book/src/generated/trace.txt) lines)"

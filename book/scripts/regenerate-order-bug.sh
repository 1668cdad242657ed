#!/usr/bin/env bash
# Runs examples/order_bug.rs and stores its output for the chapter "Order
# bugs, on demand": the counts, explore::check's report, PCT against a
# uniform shuffle, and the trace of one passing and one failing seed.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build -q -p examples --features explore --example order_bug
out=book/src/generated
target/debug/examples/order_bug > "$out/order-bug.txt"
# The first failing seed, from the run above, and a passing one (FIFO-like).
failing=$(sed -n 's/^seeds 0..100: [0-9]* fail, the first ones: \[\([0-9]*\).*/\1/p' "$out/order-bug.txt")
for seed in 0 "$failing"; do
    {
        LOOPLET_TRACE=1 target/debug/examples/order_bug --seed "$seed" 2>&1
    } > "$out/order-bug-seed-$seed.txt"
done
echo "wrote $out/order-bug.txt and the traces of seeds 0 and $failing"

//! The cooperative budget, watched: a task whose awaits are always ready
//! shares the loop with a ticker that wants to run every 5 ms.
//!
//! The hog moves one item around a queue that is never empty: `get` and
//! `put` never have to wait, so the hog never returns `Pending` by itself.
//! On a loop without a budget (asyncio's: see `examples/python/always_ready.py`)
//! the ticker would not run once until the hog was done. Here every poll of
//! the hog may complete 128 operations; then the next `get` yields, the hog
//! goes to the back of the run queue, and the ticker gets its turn.
//!
//! Run it with `cargo run --release --example always_ready`.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use runtime::sync::Queue;
use runtime::time::sleep;

const ROUNDS: u64 = 5_000_000;

fn main() {
    runtime::block_on(async {
        let ticks = Rc::new(Cell::new(0u32));
        let polls = Rc::new(Cell::new(0u64));
        let ticker = runtime::spawn({
            let ticks = ticks.clone();
            async move {
                loop {
                    sleep(Duration::from_millis(5)).await;
                    ticks.set(ticks.get() + 1);
                }
            }
        });
        let start = Instant::now();
        let queue = Queue::new(0);
        queue.put(0u64).await;
        let hog = runtime::spawn(CountPolls {
            polls: polls.clone(),
            future: Box::pin(async move {
                // ANCHOR: hog
                for _ in 0..ROUNDS {
                    let item = queue.get().await; // never waits: always an item
                    queue.put(item + 1).await; // never waits: no limit
                }
                // ANCHOR_END: hog
            }),
        });
        hog.await.unwrap();
        let took = start.elapsed();
        ticker.abort();
        println!(
            "the hog did {ROUNDS} get+put rounds in {:.2?}, in {} polls \
             (about {} operations per poll)",
            took,
            polls.get(),
            2 * ROUNDS / polls.get().max(1)
        );
        println!(
            "meanwhile the 5 ms ticker ran {} times (about {} expected)",
            ticks.get(),
            took.as_millis() / 5
        );
    });
}

/// Counts how many times the loop polled the wrapped future.
struct CountPolls<F> {
    polls: Rc<Cell<u64>>,
    future: std::pin::Pin<Box<F>>,
}

impl<F: std::future::Future> std::future::Future for CountPolls<F> {
    type Output = F::Output;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        self.polls.set(self.polls.get() + 1);
        self.future.as_mut().poll(cx)
    }
}

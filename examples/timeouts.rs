//! Timers in practice: `timeout` around a slow operation, `interval` driving
//! periodic work, and many sleeps gathered at once finishing in about the
//! time of the longest.
//!
//! Run it with `cargo run --example timeouts`.

use std::time::{Duration, Instant};

use runtime::gather;
use runtime::time::{interval, sleep, timeout};

/// Pretends to fetch something that takes `d`.
async fn slow_operation(d: Duration) -> &'static str {
    sleep(d).await;
    "the answer"
}

fn main() {
    runtime::block_on(async {
        // 1. timeout: asyncio.wait_for(aw, t)
        println!("1. timeout gives up on work that takes too long.");
        let quick = timeout(
            Duration::from_millis(100),
            slow_operation(Duration::from_millis(10)),
        )
        .await;
        println!("   10 ms of work with a 100 ms limit: {quick:?}");
        let slow = timeout(
            Duration::from_millis(50),
            slow_operation(Duration::from_secs(5)),
        )
        .await;
        match slow {
            Ok(v) => println!("   unexpected: {v}"),
            Err(e) => println!("   5 s of work with a 50 ms limit: Err({e})"),
        }

        // 2. interval: periodic work without drift.
        println!("\n2. interval drives periodic work; the first tick is immediate.");
        let start = Instant::now();
        let mut every = interval(Duration::from_millis(20));
        for n in 1..=5 {
            let tick = every.tick().await;
            println!("   tick {n} at {:>5.1?}", tick - start);
        }

        // 3. Many sleeps at once.
        println!("\n3. 10,000 sleeps of 1..=100 ms, gathered: about the longest, not the sum.");
        let start = Instant::now();
        let sleeps = (0..10_000u64).map(|i| sleep(Duration::from_millis(1 + i % 100)));
        gather(sleeps).await;
        println!(
            "   all done in {:.0?} (one after another they would take {} s)",
            start.elapsed(),
            (0..10_000u64).map(|i| 1 + i % 100).sum::<u64>() / 1000
        );
    });
}

//! What blocking the loop does, measured: a ticker task wants to run every
//! 10 ms and records how late each tick is. A CPU-heavy job (counting primes)
//! runs first directly on the loop, then through `spawn_blocking`.
//!
//! Run it with `cargo run --release --example blocking_the_loop`.

use std::time::{Duration, Instant};

use runtime::time::interval;
use runtime::{spawn, spawn_blocking};

/// Counts the primes below `limit` the slow way: pure CPU, no awaits.
fn count_primes(limit: u64) -> usize {
    (2..limit)
        .filter(|&n| (2..).take_while(|d| d * d <= n).all(|d| n % d != 0))
        .count()
}

/// Ticks every 10 ms until `stop`, returning the worst lateness seen.
async fn ticker(ticks: u32) -> Duration {
    let mut every = interval(Duration::from_millis(10));
    let mut worst = Duration::ZERO;
    for _ in 0..ticks {
        let scheduled = every.tick().await;
        worst = worst.max(scheduled.elapsed());
    }
    worst
}

const LIMIT: u64 = 2_000_000;

fn main() {
    runtime::block_on(async {
        println!("A ticker wants to run every 10 ms; meanwhile we count primes below {LIMIT}.\n");

        // 1. The job runs on the loop thread: nothing else can run until it ends.
        let ticks = spawn(ticker(30));
        runtime::yield_now().await; // let the ticker start
        let start = Instant::now();
        let primes = count_primes(LIMIT);
        let took = start.elapsed();
        let worst = ticks.await.unwrap();
        println!(
            "on the loop:        {primes} primes in {took:.0?}; worst tick lateness {worst:.1?}"
        );

        // 2. The same job on the blocking pool: the loop stays free.
        let ticks = spawn(ticker(30));
        runtime::yield_now().await;
        let start = Instant::now();
        let primes = spawn_blocking(|| count_primes(LIMIT)).await.unwrap();
        let took = start.elapsed();
        let worst = ticks.await.unwrap();
        println!(
            "on spawn_blocking:  {primes} primes in {took:.0?}; worst tick lateness {worst:.1?}"
        );

        println!(
            "\nOn the loop, the ticker waited for the whole job: one poll that does not\n\
             return holds every task. On spawn_blocking, the job ran on a pool thread and\n\
             the ticker kept its 10 ms beat (asyncio: loop.run_in_executor)."
        );
    });
}

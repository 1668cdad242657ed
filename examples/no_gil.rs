//! No GIL: Python needs processes for CPU parallelism, because its threads
//! take turns holding one interpreter lock. Rust threads have no such lock,
//! so the blocking pool's threads run CPU work truly in parallel.
//!
//! This splits one CPU job (summing the digits of many numbers) into chunks,
//! runs them one after another, then all at once on the pool, and prints
//! the speed-up. On a 2-core machine expect close to 2x.
//!
//! Run it with `cargo run --release --example no_gil`.

use std::time::Instant;

use runtime::{gather, spawn_blocking};

// ANCHOR: job
fn digit_sum(range: std::ops::Range<u64>) -> u64 {
    range
        .map(|mut n| {
            let mut s = 0;
            while n > 0 {
                s += n % 10;
                n /= 10;
            }
            s
        })
        .sum()
}
// ANCHOR_END: job

const TOTAL: u64 = 200_000_000;

fn main() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunks = cores as u64 * 4;
    let size = TOTAL / chunks;
    println!("summing the digits of 0..{TOTAL} in {chunks} chunks, on {cores} cores\n");

    runtime::block_on(async {
        // ANCHOR: one_by_one
        let start = Instant::now();
        let mut one_by_one = 0;
        for c in 0..chunks {
            one_by_one += spawn_blocking(move || digit_sum(c * size..(c + 1) * size))
                .await
                .unwrap();
        }
        let serial = start.elapsed();
        println!("one chunk at a time:        {serial:.2?}  (result {one_by_one})");
        // ANCHOR_END: one_by_one

        // ANCHOR: all_at_once
        let start = Instant::now();
        let parts = gather(
            (0..chunks).map(|c| spawn_blocking(move || digit_sum(c * size..(c + 1) * size))),
        )
        .await;
        let all_at_once: u64 = parts.into_iter().map(Result::unwrap).sum();
        let parallel = start.elapsed();
        println!("all chunks on the pool:     {parallel:.2?}  (result {all_at_once})");
        // ANCHOR_END: all_at_once
        assert_eq!(one_by_one, all_at_once);
        println!(
            "\nspeed-up: {:.2}x. In Python, threads would give about 1x here (the GIL);\n\
             you would need a ProcessPoolExecutor and pickling to get this.",
            serial.as_secs_f64() / parallel.as_secs_f64()
        );
    });
}

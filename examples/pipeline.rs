//! Producers, a bounded queue, and consumers: asyncio's classic
//! `asyncio.Queue(maxsize=...)` pipeline.
//!
//! Three producers put numbered jobs into a `Queue` of at most 8 items; two
//! consumers take them out. First the consumers are fast, and the program
//! prints the throughput. Then the consumers are slow (each job takes 1 ms),
//! and the queue shows *back-pressure*: it fills up, `put` waits, and the
//! producers slow down to the consumers' pace instead of piling up memory.
//!
//! `cargo run --release --example pipeline`

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use runtime::sync::Queue;

const PRODUCERS: u64 = 3;
const CONSUMERS: u64 = 2;
const MAXSIZE: usize = 8;

/// Runs the pipeline with `jobs` jobs per producer and `work` per job in
/// each consumer. Returns (elapsed, most items seen in the queue, time the
/// producers spent waiting in `put`).
async fn run(jobs: u64, work: Duration) -> (Duration, usize, Duration) {
    let queue = Queue::new(MAXSIZE);
    let fullest = Rc::new(Cell::new(0));
    let waited = Rc::new(Cell::new(Duration::ZERO));
    let start = Instant::now();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let (queue, fullest, waited) = (queue.clone(), fullest.clone(), waited.clone());
            runtime::spawn(async move {
                for n in 0..jobs {
                    let before = Instant::now();
                    queue.put(Some(p * jobs + n)).await; // waits while full
                    waited.set(waited.get() + before.elapsed());
                    fullest.set(fullest.get().max(queue.len()));
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let queue = queue.clone();
            runtime::spawn(async move {
                let mut done = 0u64;
                // `None` is the signal to stop, like asyncio's sentinel.
                while let Some(_job) = queue.get().await {
                    if !work.is_zero() {
                        runtime::time::sleep(work).await;
                    }
                    done += 1;
                }
                done
            })
        })
        .collect();
    for p in producers {
        p.await.unwrap();
    }
    for _ in 0..CONSUMERS {
        queue.put(None).await;
    }
    let mut done = 0;
    for c in consumers {
        done += c.await.unwrap();
    }
    assert_eq!(
        done,
        PRODUCERS * jobs,
        "every job was consumed exactly once"
    );
    (start.elapsed(), fullest.get(), waited.get())
}

fn main() {
    runtime::block_on(async {
        let jobs = 100_000;
        let (elapsed, fullest, _) = run(jobs, Duration::ZERO).await;
        let total = PRODUCERS * jobs;
        println!("fast consumers: {total} jobs through a queue of {MAXSIZE} in {elapsed:.2?}");
        println!(
            "  {:.0} jobs/s, at most {fullest} in the queue at once\n",
            total as f64 / elapsed.as_secs_f64()
        );

        let jobs = 100;
        let (elapsed, fullest, waited) = run(jobs, Duration::from_millis(1)).await;
        let total = PRODUCERS * jobs;
        println!("slow consumers (1 ms a job): {total} jobs in {elapsed:.2?}");
        println!("  the queue filled up: at most {fullest} of {MAXSIZE} items");
        println!(
            "  back-pressure: the producers spent {:.2?} waiting in put, on average {:.2?} a job,",
            waited,
            waited / total as u32
        );
        println!(
            "  so they ran at the consumers' pace instead of queueing {total} jobs in memory."
        );
    });
}

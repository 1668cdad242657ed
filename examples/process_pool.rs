//! The seed's `ProcessPoolExecutor`, in looplet: CPU-bound work spread over
//! worker processes of this same program, talking over pipes, compared in
//! one run with threads (`spawn_blocking`) and with one thread.
//!
//! Python reaches for processes because its threads take turns holding one
//! interpreter lock (see the "No GIL" chapter). Rust threads have no such
//! lock, so threads already run the work in parallel; what processes still
//! buy is isolation: a worker that crashes or leaks takes only itself down.
//! The table shows what that isolation costs: starting processes, copying
//! jobs and answers through pipes, and a whole process's memory per worker.
//!
//! Run it with `cargo run --release --example process_pool`.

use std::io::{BufRead, Write};
use std::time::Instant;

use runtime::process::Command;
use runtime::{gather, spawn_blocking};

/// How many primes are below `limit`, the slow way: pure CPU.
fn count_primes(range: std::ops::Range<u64>) -> u64 {
    range
        .filter(|&n| n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0))
        .count() as u64
}

const LIMIT: u64 = 3_000_000;

/// The worker side: read "start end" lines from stdin, answer each with
/// the count on stdout, until stdin closes.
fn worker() {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout();
    for line in stdin.lock().lines() {
        let line = line.unwrap();
        let mut parts = line.split_whitespace().map(|p| p.parse::<u64>().unwrap());
        let (start, end) = (parts.next().unwrap(), parts.next().unwrap());
        writeln!(stdout, "{}", count_primes(start..end)).unwrap();
        stdout.flush().unwrap();
    }
}

/// One job in a worker process: start it, send the range, read the answer.
async fn in_a_process(range: std::ops::Range<u64>) -> (u64, u64) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env("LOOPLET_POOL_WORKER", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("{} {}\n", range.start, range.end).as_bytes())
        .await
        .unwrap();
    drop(stdin); // the worker sees end of input after this job
    let mut answer = Vec::new();
    let mut buf = [0; 64];
    let mut peak_rss = 0;
    let stdout = child.stdout.as_mut().unwrap();
    loop {
        // While it works, note how much memory the worker holds.
        peak_rss = peak_rss.max(examples::resident_memory_of(pid).unwrap_or(0));
        match stdout.read(&mut buf).await.unwrap() {
            0 => break,
            n => answer.extend_from_slice(&buf[..n]),
        }
    }
    assert!(child.wait().await.unwrap().success());
    let count = String::from_utf8(answer).unwrap().trim().parse().unwrap();
    (count, peak_rss)
}

fn main() {
    if std::env::var_os("LOOPLET_POOL_WORKER").is_some() {
        return worker();
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let chunks: Vec<_> = (0..cores)
        .map(|i| (LIMIT * i / cores)..(LIMIT * (i + 1) / cores))
        .collect();
    println!("counting the primes below {LIMIT}, in {cores} chunks\n");
    println!(
        "{:<24} {:>9} {:>8} {:>22}",
        "how", "time", "primes", "memory"
    );

    runtime::block_on(async {
        let start = Instant::now();
        let one = count_primes(0..LIMIT);
        let base_rss = examples::resident_memory().unwrap_or(0);
        println!(
            "{:<24} {:>9.2?} {:>8} {:>22}",
            "one thread",
            start.elapsed(),
            one,
            format!("{} KiB (this process)", base_rss / 1024)
        );

        let start = Instant::now();
        let counts = gather(
            chunks
                .iter()
                .cloned()
                .map(|range| spawn_blocking(move || count_primes(range))),
        )
        .await;
        let threads: u64 = counts.into_iter().map(Result::unwrap).sum();
        println!(
            "{:<24} {:>9.2?} {:>8} {:>22}",
            format!("{cores} threads (pool)"),
            start.elapsed(),
            threads,
            format!(
                "{} KiB (this process)",
                examples::resident_memory().unwrap_or(0) / 1024
            )
        );

        let start = Instant::now();
        let answers = gather(chunks.iter().cloned().map(in_a_process)).await;
        let processes: u64 = answers.iter().map(|(count, _)| count).sum();
        let worker_rss: u64 = answers.iter().map(|(_, rss)| rss).sum();
        println!(
            "{:<24} {:>9.2?} {:>8} {:>22}",
            format!("{cores} worker processes"),
            start.elapsed(),
            processes,
            format!("+{} KiB in workers", worker_rss / 1024)
        );
        assert_eq!(one, threads);
        assert_eq!(one, processes);
    });
    println!(
        "\nThreads share this process's memory; each worker process holds a copy \
         of the program of its own (its RSS is shown), but a crash in a worker \
         would take only that worker down."
    );
}

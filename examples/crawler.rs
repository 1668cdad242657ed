//! A polite crawler: fetch many URLs at once, but never more than K at a
//! time, asyncio's
//!
//! ```python
//! sem = asyncio.Semaphore(K)
//! async def fetch(url):
//!     async with sem:
//!         return await get(url)
//! await asyncio.gather(*(fetch(u) for u in urls))
//! ```
//!
//! It starts the `http_hello` server in this loop, then fetches 40 URLs that
//! each take 50 ms to answer: first with no limit, then with at most 5 in
//! flight. It counts how many requests were in flight at once.
//!
//! `cargo run --release --example crawler [K]` (default 5).

use std::cell::Cell;
use std::time::Instant;

use examples::http;
use runtime::net::TcpListener;
use runtime::sync::Semaphore;

/// In-flight counters: now, and the most seen.
#[derive(Default)]
struct InFlight {
    now: Cell<usize>,
    most: Cell<usize>,
}

// ANCHOR: crawl
async fn fetch(
    url: &str,
    limit: Option<&Semaphore>,
    in_flight: &InFlight,
) -> std::io::Result<http::Response> {
    // `async with sem:` -- the permit is held until it is dropped.
    let _permit = match limit {
        Some(sem) => Some(sem.acquire().await),
        None => None,
    };
    in_flight.now.set(in_flight.now.get() + 1);
    in_flight
        .most
        .set(in_flight.most.get().max(in_flight.now.get()));
    let response = http::get(url).await;
    in_flight.now.set(in_flight.now.get() - 1);
    response
}

async fn crawl(urls: &[String], limit: Option<&Semaphore>) -> std::io::Result<usize> {
    let in_flight = InFlight::default();
    let responses =
        runtime::try_gather(urls.iter().map(|url| fetch(url, limit, &in_flight))).await?;
    assert!(responses.iter().all(|r| r.status == 200));
    Ok(in_flight.most.get())
}
// ANCHOR_END: crawl

fn main() -> std::io::Result<()> {
    let k: usize = std::env::args()
        .nth(1)
        .map_or(5, |s| s.parse().expect("K is a number"));
    runtime::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        drop(runtime::spawn(examples::serve(listener, http::handle)));
        let urls: Vec<String> = (0..40).map(|_| format!("http://{addr}/delay/50")).collect();
        println!("40 URLs, each answering after 50 ms, from a server in this loop\n");

        let start = Instant::now();
        let most = crawl(&urls, None).await?;
        println!(
            "no limit:       {:>7.2?}, at most {most} requests in flight",
            start.elapsed()
        );

        let sem = Semaphore::new(k);
        let start = Instant::now();
        let most = crawl(&urls, Some(&sem)).await?;
        println!(
            "Semaphore({k}):   {:>7.2?}, at most {most} requests in flight",
            start.elapsed()
        );
        println!("\nwith the limit, 40 / {k} rounds of 50 ms: slower, but the server never sees more than {k} at once.");
        Ok(())
    })
}

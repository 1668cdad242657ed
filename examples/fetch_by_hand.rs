//! asyncio's most famous example, `fetch_all(urls)`, in looplet, over the
//! hand-written HTTP client of `http.rs` (the `fetch_all` example does the
//! same with hyper's pooled client):
//!
//! ```python
//! async def fetch_all(urls):
//!     async with aiohttp.ClientSession() as s:
//!         return await asyncio.gather(*(fetch(s, u) for u in urls))
//! ```
//!
//! It starts the `http_hello` server in this same loop, then fetches N URLs
//! that each take 100 ms to answer: first one after another, then all at
//! once with `try_gather`. The first takes N times 100 ms; the second about
//! 100 ms, on one thread, because a task waiting for a socket costs nothing
//! while it waits.
//!
//! `cargo run --release --example fetch_by_hand [N]` (default 20).

use std::time::Instant;

use examples::http;
use runtime::net::TcpListener;

// ANCHOR: fetch_all
async fn fetch_one_by_one(urls: &[String]) -> std::io::Result<Vec<http::Response>> {
    let mut responses = Vec::new();
    for url in urls {
        responses.push(http::get(url).await?);
    }
    Ok(responses)
}

async fn fetch_all(urls: &[String]) -> std::io::Result<Vec<http::Response>> {
    runtime::try_gather(urls.iter().map(|url| http::get(url))).await
}
// ANCHOR_END: fetch_all

fn main() -> std::io::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(20, |s| s.parse().expect("N is a number"));
    runtime::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        drop(runtime::spawn(examples::serve(listener, http::handle)));
        println!("serving on http://{addr}/ in this loop; every URL answers after 100 ms\n");
        let urls: Vec<String> = (0..n).map(|_| format!("http://{addr}/delay/100")).collect();

        let start = Instant::now();
        let responses = fetch_one_by_one(&urls).await?;
        let sequential = start.elapsed();
        println!("one after another: {n} responses in {sequential:.2?}");

        let start = Instant::now();
        let gathered = fetch_all(&urls).await?;
        let concurrent = start.elapsed();
        println!("all at once (try_gather): {n} responses in {concurrent:.2?}");

        assert!(responses.iter().chain(&gathered).all(|r| r.status == 200));
        println!(
            "\ntry_gather was {:.0}x faster, on one thread: while one request waits, the loop runs the others.",
            sequential.as_secs_f64() / concurrent.as_secs_f64()
        );
        println!("first body: {:?}", gathered[0].body);
        Ok(())
    })
}

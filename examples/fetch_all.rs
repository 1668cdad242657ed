//! The seed's aiohttp program, on looplet with hyper's pooled client:
//!
//! ```python
//! async def fetch(session, url):
//!     async with session.get(url) as response:
//!         return await response.text()
//!
//! async def main(urls):
//!     async with aiohttp.ClientSession() as session:
//!         return await asyncio.gather(*(fetch(session, u) for u in urls))
//! ```
//!
//! hyper-util's `Client` is the `ClientSession`: a pool of keep-alive
//! connections, shared by every request. Built from `runtime::hyper`'s
//! executor, timer and connector, it runs on looplet's loop like any other
//! code. This program starts a hyper server in the same loop, whose every
//! answer waits 100 ms on a timer, then fetches N URLs one by one, and then
//! all at once: N spawned tasks, gathered. One by one takes N times 100 ms
//! over one reused connection; all at once about 100 ms, on one thread.
//!
//! `cargo run --release --example fetch_all --features hyper [N]` (default 50).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use examples::hyper_app;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use runtime::hyper::{Connector, Executor, Timer};
use runtime::net::TcpListener;

type Error = Box<dyn std::error::Error + Send + Sync>;

// ANCHOR: fetch
/// The session: one pool of connections for every request.
type Session = Client<Connector, Empty<Bytes>>;

fn session() -> Session {
    Client::builder(Executor)
        .timer(Timer)
        .pool_timer(Timer)
        .build(Connector)
}

/// `async with session.get(url) as response: return await response.text()`
async fn fetch(session: Session, url: String) -> Result<String, Error> {
    let response = session.get(url.parse()?).await?;
    let body = response.into_body().collect().await?.to_bytes();
    Ok(String::from_utf8(body.to_vec())?)
}

/// `asyncio.gather(*(fetch(session, u) for u in urls))`, with each fetch a
/// task of its own (`create_task`), as aiohttp programs often write it.
async fn fetch_all(session: &Session, urls: &[String]) -> Result<Vec<String>, Error> {
    let tasks = urls
        .iter()
        .map(|url| runtime::spawn(fetch(session.clone(), url.clone())));
    let mut bodies = Vec::new();
    for done in runtime::gather(tasks).await {
        bodies.push(done??);
    }
    Ok(bodies)
}
// ANCHOR_END: fetch

fn main() -> Result<(), Error> {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(50, |s| s.parse().expect("N is a number"));
    runtime::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let accepted = Arc::new(AtomicUsize::new(0));
        drop(runtime::spawn(hyper_app::serve(listener, accepted.clone())));
        println!("a hyper server on http://{addr}/ in this loop; every URL answers after 100 ms\n");
        let urls: Vec<String> = (0..n).map(|_| format!("http://{addr}/delay/100")).collect();
        let session = session();

        let start = Instant::now();
        for url in &urls {
            fetch(session.clone(), url.clone()).await?;
        }
        let one_by_one = start.elapsed();
        let connections_then = accepted.load(Ordering::Relaxed);
        println!("one by one:  {n} responses in {one_by_one:>8.2?}, over {connections_then} connection(s)");

        let start = Instant::now();
        let bodies = fetch_all(&session, &urls).await?;
        let all_at_once = start.elapsed();
        let opened = accepted.load(Ordering::Relaxed) - connections_then;
        println!(
            "all at once: {n} responses in {all_at_once:>8.2?}, {opened} more connection(s) opened"
        );

        assert!(bodies.iter().all(|b| b == "answered after 100 ms\n"));
        println!(
            "\nall at once was {:.0}x faster, on one thread: while one request waits, the loop runs the others.",
            one_by_one.as_secs_f64() / all_at_once.as_secs_f64()
        );
        Ok(())
    })
}

//! The first reply of three mirrors wins: asyncio's
//! `asyncio.wait(fetches, return_when=FIRST_COMPLETED)` inside a
//! `wait_for(..., timeout)`, in looplet.
//!
//! Three local "mirrors" answer the same question after different delays.
//! `runtime::first` races the three requests; the first reply wins and the
//! two slower requests are dropped (cancelled): their connections close,
//! and the mirrors see that. A second round, where every mirror is slower
//! than the deadline, shows `timeout` giving up.
//!
//! Run it with `cargo run --example race_timeout`.

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use runtime::net::{TcpListener, TcpStream};
use runtime::time::{sleep, timeout};

/// A mirror that answers every request with its name after `delay`, and
/// counts the requests whose client hung up before the answer.
async fn mirror(name: &'static str, delay: Duration, abandoned: Rc<Cell<u32>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(runtime::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let abandoned = abandoned.clone();
            drop(runtime::spawn(async move {
                let mut request = [0; 4];
                if conn.read_exact(&mut request).await.is_err() {
                    return;
                }
                sleep(delay).await;
                // A cancelled client has closed its side by now.
                let mut probe = [0; 1];
                if let Ok(Ok(0)) = timeout(Duration::ZERO, conn.read(&mut probe)).await {
                    abandoned.set(abandoned.get() + 1);
                    return;
                }
                let _ = conn.write_all(name.as_bytes()).await;
            }));
        }
    }));
    addr
}

// ANCHOR: fetch
/// Asks one mirror and returns its answer.
async fn fetch(addr: SocketAddr) -> std::io::Result<String> {
    let mut conn = TcpStream::connect(addr).await?;
    conn.write_all(b"GET?").await?;
    let mut reply = vec![0; 16];
    let n = conn.read(&mut reply).await?;
    Ok(String::from_utf8_lossy(&reply[..n]).into_owned())
}
// ANCHOR_END: fetch

fn main() {
    runtime::block_on(async {
        let abandoned = Rc::new(Cell::new(0));
        let mirrors = [
            mirror("eu-mirror", Duration::from_millis(30), abandoned.clone()).await,
            mirror("us-mirror", Duration::from_millis(10), abandoned.clone()).await,
            mirror("ap-mirror", Duration::from_millis(20), abandoned.clone()).await,
        ];

        // ANCHOR: fastest
        let start = Instant::now();
        let fastest = timeout(
            Duration::from_millis(500),
            runtime::first(mirrors.map(fetch)),
        )
        .await;
        match fastest {
            Ok((index, reply)) => println!(
                "round 1: mirror #{index} answered first, {:?}, after {:.0?}",
                reply.unwrap(),
                start.elapsed()
            ),
            Err(e) => println!("round 1: {e}"),
        }
        // ANCHOR_END: fastest
        // Let the slower mirrors notice that their clients hung up.
        sleep(Duration::from_millis(50)).await;
        println!(
            "         the other {} requests were cancelled: their mirrors found nobody to answer",
            abandoned.get()
        );

        let slow = [
            mirror("slow-1", Duration::from_millis(300), abandoned.clone()).await,
            mirror("slow-2", Duration::from_millis(400), abandoned.clone()).await,
        ];
        let start = Instant::now();
        match timeout(Duration::from_millis(100), runtime::first(slow.map(fetch))).await {
            Ok((index, _)) => println!("round 2: mirror #{index} answered in time"),
            Err(e) => println!(
                "round 2: {e}, after {:.0?}: every request was dropped",
                start.elapsed()
            ),
        }
    });
}

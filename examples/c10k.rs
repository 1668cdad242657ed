//! The C10K problem, on one thread: an echo server holding 10,000 open
//! connections in one event loop, each of them echoing messages.
//!
//! `cargo run --release --example c10k [CONNS] [MESSAGES]` (defaults: 10,000
//! connections, 20 messages of 64 bytes each).
//!
//! The program is two processes. This one is the server: one loop thread,
//! the accept loop and echo handler of `echo_server`. It starts a copy of
//! itself with `--load` as the client, so that each process stays under the
//! per-process limit on open files (each connection is one descriptor on
//! each side). The client connects everything first, holds it idle for a
//! moment (when the server measures its memory), then makes every
//! connection echo its messages at once.
//!
//! What it prints: the connections the server held at once, messages per
//! second, and the server's resident memory per connection.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use runtime::net::{TcpListener, TcpStream};

const MESSAGE: usize = 64;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--load") {
        return load(&args[1], args[2].parse().unwrap(), args[3].parse().unwrap());
    }
    let conns: usize = args
        .first()
        .map_or(10_000, |s| s.parse().expect("CONNS is a number"));
    let messages: usize = args
        .get(1)
        .map_or(20, |s| s.parse().expect("MESSAGES is a number"));
    if let Err(e) = examples::raise_fd_limit(conns as u64 + 100) {
        eprintln!("c10k: {e}");
        std::process::exit(2);
    }
    runtime::block_on(serve(conns, messages))
}

/// The server: count connections and echoed bytes, measure memory when all
/// connections are open, and report when the client process is done.
async fn serve(conns: usize, messages: usize) -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let live = Rc::new(Cell::new(0usize));
    let echoed = Rc::new(Cell::new(0u64));
    let baseline = examples::resident_memory().unwrap_or(0);
    println!("server: one loop thread on {addr}; starting the client process");

    // ANCHOR: server
    drop(runtime::spawn({
        let (live, echoed) = (live.clone(), echoed.clone());
        examples::serve(listener, move |conn| {
            counted_echo(conn, live.clone(), echoed.clone())
        })
    }));

    let client = std::process::Command::new(std::env::current_exe()?)
        .args([
            "--load",
            &addr.to_string(),
            &conns.to_string(),
            &messages.to_string(),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    // Waiting for a process blocks, so it goes to the pool.
    let client = runtime::spawn_blocking(move || client.wait_with_output());

    // Watch the connection count; once every connection is open and the
    // count has held still, read the memory.
    let (mut peak, mut rss_at_peak) = (0, None);
    while !client.is_finished() {
        runtime::time::sleep(Duration::from_millis(100)).await;
        if live.get() > peak {
            peak = live.get();
        } else if peak == conns && rss_at_peak.is_none() {
            rss_at_peak = examples::resident_memory();
            println!("server: holding {peak} connections");
        }
    }
    // ANCHOR_END: server
    let output = client.await.expect("waiting for the client")?;
    print!("{}", String::from_utf8_lossy(&output.stdout));
    println!("server: held {peak} connections at once on one thread");
    println!("server: echoed {} messages", echoed.get() / MESSAGE as u64);
    if let Some(rss) = rss_at_peak {
        let per_conn = rss.saturating_sub(baseline) as f64 / peak as f64;
        println!(
            "server: resident memory {:.1} MiB with all connections open, \
             {:.0} bytes per connection over the {:.1} MiB it started with",
            rss as f64 / 1048576.0,
            per_conn,
            baseline as f64 / 1048576.0
        );
    }
    if !output.status.success() {
        return Err(std::io::Error::other("the client process failed"));
    }
    Ok(())
}

// ANCHOR: counted_echo
async fn counted_echo(
    mut conn: TcpStream,
    live: Rc<Cell<usize>>,
    echoed: Rc<Cell<u64>>,
) -> std::io::Result<()> {
    live.set(live.get() + 1);
    let mut buf = [0; 4096];
    let result = async {
        loop {
            let n = conn.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            conn.write_all(&buf[..n]).await?;
            echoed.set(echoed.get() + n as u64);
        }
    }
    .await;
    live.set(live.get() - 1);
    result
}
// ANCHOR_END: counted_echo

/// The client process: open `conns` connections, hold them, then echo.
fn load(addr: &str, conns: usize, messages: usize) -> std::io::Result<()> {
    if let Err(e) = examples::raise_fd_limit(conns as u64 + 100) {
        eprintln!("c10k client: {e}");
        std::process::exit(2);
    }
    runtime::block_on(async {
        // ANCHOR: connect_in_batches
        // Connect in batches, so the server's listen backlog never overflows.
        let start = Instant::now();
        let mut streams = Vec::with_capacity(conns);
        while streams.len() < conns {
            let batch = (conns - streams.len()).min(500);
            let connects = (0..batch).map(|_| TcpStream::connect(addr));
            streams.extend(runtime::try_gather(connects).await?);
        }
        println!(
            "client: {conns} connections open in {:.2?}",
            start.elapsed()
        );
        // Idle for a moment: the server reads its memory now.
        runtime::time::sleep(Duration::from_millis(1_000)).await;
        // ANCHOR_END: connect_in_batches

        let start = Instant::now();
        let rounds = streams.into_iter().map(|mut stream| async move {
            let message = [b'x'; MESSAGE];
            let mut back = [0; MESSAGE];
            for _ in 0..messages {
                stream.write_all(&message).await?;
                stream.read_exact(&mut back).await?;
                if back != message {
                    return Err(std::io::Error::other("an echo came back different"));
                }
            }
            Ok(messages)
        });
        let total: usize = runtime::try_gather(rounds).await?.iter().sum();
        let secs = start.elapsed().as_secs_f64();
        println!(
            "client: {total} messages echoed over {conns} connections in {secs:.2} s: {:.0} messages/s",
            total as f64 / secs
        );
        Ok(())
    })
}

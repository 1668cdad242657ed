//! The seed's claim, measured: "a FastAPI server handles 10,000+ concurrent
//! requests on a single process because each await yields; the same logic
//! with a thread pool is limited by thread count (200-500)".
//!
//! Two servers run the same handler, "wait 100 ms for the database, then
//! answer", each in a child process of its own so that its memory is its
//! own:
//!
//! - **hyper on one looplet thread**: the wait is a timer, `.await`ed;
//! - **a blocking server with 500 threads**: an accept thread hands each
//!   connection to a pool of 500 workers, and the wait is a
//!   `thread::sleep`, as a blocking database driver would be.
//!
//! This process is the client, on a looplet loop: it opens 10,000
//! connections to a server, then sends 10,000 requests at once and times
//! each answer. The table gives, for each server, the time until the last
//! answer, the median and 99th-percentile latency, and the server's peak
//! resident memory and thread count.
//!
//! `cargo run --release --example ten_thousand_requests --features hyper [N] [THREADS]`
//! (defaults: 10,000 requests, 500 threads).

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use runtime::net::{TcpListener, TcpStream};
use runtime::sync::{Event, Semaphore};

/// The simulated database call.
const DB_CALL: Duration = Duration::from_millis(100);
const REQUEST: &[u8] = b"GET /delay/100 HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n";

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--serve-looplet") => return serve_looplet(),
        Some("--serve-threads") => return serve_threads(args[1].parse().unwrap()),
        _ => {}
    }
    let n: usize = args
        .first()
        .map_or(10_000, |s| s.parse().expect("N is a number"));
    let threads: usize = args
        .get(1)
        .map_or(500, |s| s.parse().expect("THREADS is a number"));
    examples::raise_fd_limit(n as u64 + 200).map_err(std::io::Error::other)?;

    println!(
        "{n} concurrent requests, each waiting {} ms for a simulated database call:\n",
        DB_CALL.as_millis()
    );
    println!(
        "| server | threads | last answer | p50 latency | p99 latency | peak memory |\n\
         |---|---:|---:|---:|---:|---:|"
    );
    let looplet = Server::start(&["--serve-looplet".to_string()])?;
    report("hyper on one looplet thread", looplet, n)?;
    let blocking = Server::start(&["--serve-threads".to_string(), threads.to_string()])?;
    report(&format!("blocking, {threads} threads"), blocking, n)?;
    Ok(())
}

/// A server in a child process of this program, and the port it serves.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(args: &[String]) -> std::io::Result<Server> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(args)
            .stdout(Stdio::piped())
            .spawn()?;
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().expect("piped")).read_line(&mut line)?;
        let port = line.trim().parse().map_err(std::io::Error::other)?;
        Ok(Server { child, port })
    }

    /// Peak resident memory (bytes) and thread count, from /proc.
    fn peak_memory_and_threads(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
                .unwrap_or(0)
        };
        (field("VmHWM:") * 1024, field("Threads:"))
    }
}

fn report(name: &str, mut server: Server, n: usize) -> std::io::Result<()> {
    let (total, mut latencies) = runtime::block_on(load(server.port, n))?;
    let (memory, threads) = server.peak_memory_and_threads();
    server.child.kill()?;
    server.child.wait()?;
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "| {name} | {threads} | {:.2} s | {:.0} ms | {:.0} ms | {:.0} MiB |",
        total.as_secs_f64(),
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        memory as f64 / 1048576.0
    );
    Ok(())
}

// ANCHOR: load
/// Opens `n` connections (at most 500 connects in flight, so the listen
/// backlog is not what we measure), then sends every request at once.
/// Returns the time until the last answer, and each request's latency.
async fn load(port: u16, n: usize) -> std::io::Result<(Duration, Vec<Duration>)> {
    let connecting = Rc::new(Semaphore::new(500));
    let go = Rc::new(Event::new());
    let opened = Rc::new(std::cell::Cell::new(0));
    let clients = (0..n).map(|_| {
        let (connecting, go, opened) = (connecting.clone(), go.clone(), opened.clone());
        runtime::spawn(async move {
            let permit = connecting.acquire().await;
            let mut conn = TcpStream::connect(("127.0.0.1", port)).await?;
            drop(permit);
            opened.set(opened.get() + 1);
            go.wait().await;
            let start = Instant::now();
            conn.write_all(REQUEST).await?;
            let mut answer = Vec::new();
            futures_read_to_end(&mut conn, &mut answer).await?;
            if !answer.starts_with(b"HTTP/1.1 200") {
                return Err(std::io::Error::other("an answer was not 200 OK"));
            }
            Ok::<_, std::io::Error>(start.elapsed())
        })
    });
    let clients: Vec<_> = clients.collect();
    while opened.get() < n {
        runtime::time::sleep(Duration::from_millis(10)).await;
    }
    let start = Instant::now();
    go.set();
    let mut latencies = Vec::with_capacity(n);
    for done in runtime::gather(clients).await {
        latencies.push(done.map_err(std::io::Error::other)??);
    }
    Ok((start.elapsed(), latencies))
}
// ANCHOR_END: load

async fn futures_read_to_end(conn: &mut TcpStream, into: &mut Vec<u8>) -> std::io::Result<()> {
    let mut buf = [0u8; 1024];
    loop {
        match conn.read(&mut buf).await? {
            0 => return Ok(()),
            n => into.extend_from_slice(&buf[..n]),
        }
    }
}

/// The looplet server: `examples/hyper_app.rs` on one thread.
fn serve_looplet() -> std::io::Result<()> {
    examples::raise_fd_limit(20_000).map_err(std::io::Error::other)?;
    runtime::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        println!("{}", listener.local_addr()?.port());
        examples::hyper_app::serve(listener, Arc::new(AtomicUsize::new(0))).await;
        Ok(())
    })
}

// ANCHOR: threads
/// The thread-pool server: an accept thread, and `threads` workers that
/// each serve one connection at a time, blocking in the "database call".
fn serve_threads(threads: usize) -> std::io::Result<()> {
    examples::raise_fd_limit(20_000).map_err(std::io::Error::other)?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    println!("{}", listener.local_addr()?.port());
    let (tx, rx) = std::sync::mpsc::channel::<std::net::TcpStream>();
    let rx = Arc::new(std::sync::Mutex::new(rx));
    for _ in 0..threads {
        let rx = rx.clone();
        std::thread::spawn(move || loop {
            let Ok(mut conn) = rx.lock().unwrap().recv() else {
                return;
            };
            let mut head = Vec::new();
            let mut byte = [0u8; 512];
            while !head.ends_with(b"\r\n\r\n") {
                match conn.read(&mut byte) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&byte[..n]),
                }
            }
            std::thread::sleep(DB_CALL); // the blocking database call
            let body = "answered after 100 ms\n";
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        });
    }
    for conn in listener.incoming() {
        match conn {
            Ok(conn) => {
                let _ = tx.send(conn);
            }
            // Out of descriptors, most often: wait rather than spin.
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    Ok(())
}
// ANCHOR_END: threads

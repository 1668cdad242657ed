//! hyper "hello" across processes: a server process per runtime, looplet
//! (with `runtime::hyper`) or tokio's current-thread runtime (with
//! hyper-util's `TokioIo` and `TokioTimer`), the same hyper and the same
//! handler; and one load, on a looplet loop in this process, the same for
//! both. It gives requests per second and the server's CPU time per
//! request (user + system, from `wait4` when the server exits).

use std::convert::Infallible;
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response};

/// What one run measured.
#[derive(Debug, Clone, Copy)]
pub struct HttpResult {
    pub requests_per_sec: f64,
    /// Server CPU (user + system) per request, in microseconds.
    pub cpu_per_request_us: f64,
}

async fn hello(_: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello World!",
    ))))
}

/// The server side, in this process: serve until stdin closes.
pub fn serve(runtime: &str) {
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(0);
    });
    match runtime {
        "looplet" => runtime::block_on(async {
            let listener = runtime::net::TcpListener::bind("127.0.0.1:0")
                .await
                .unwrap();
            announce(listener.local_addr().unwrap().port());
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                drop(runtime::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .timer(runtime::hyper::Timer)
                        .serve_connection(
                            runtime::hyper::Io::new(stream),
                            hyper::service::service_fn(hello),
                        )
                        .await;
                }));
            }
        }),
        "tokio" => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                announce(listener.local_addr().unwrap().port());
                while let Ok((stream, _)) = listener.accept().await {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(async move {
                        let _ = hyper::server::conn::http1::Builder::new()
                            .timer(hyper_util::rt::TokioTimer::new())
                            .serve_connection(
                                hyper_util::rt::TokioIo::new(stream),
                                hyper::service::service_fn(hello),
                            )
                            .await;
                    });
                }
            }),
        other => panic!("no hyper server for {other:?}"),
    }
}

fn announce(port: u16) {
    println!("port {port}");
    std::io::stdout().flush().unwrap();
}

/// Serves with `runtime`'s server, loads it with `conns` keep-alive
/// connections making `requests` requests each, one after another.
pub fn run(runtime: &str, conns: usize, requests: usize) -> HttpResult {
    let mut server = Command::new(std::env::current_exe().unwrap())
        .args(["--http-server", runtime])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the hyper server");
    let port = crate::echo::read_port(&mut server);
    let secs = runtime::block_on(load(port, conns, requests));
    let cpu = stop_and_cpu_time(server);
    let total = (conns * requests) as f64;
    HttpResult {
        requests_per_sec: total / secs,
        cpu_per_request_us: cpu.as_secs_f64() * 1e6 / total,
    }
}

/// Closes the server's stdin, waits for it, and returns the CPU time it
/// used in all (`wait4`'s resource usage).
fn stop_and_cpu_time(mut server: Child) -> Duration {
    drop(server.stdin.take()); // our servers exit when stdin closes
    let mut status = 0;
    // SAFETY: a zeroed `rusage` is a valid value of that plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `status` and `usage` are valid, writable, and live for the
    // call; the pid is our own child, not yet reaped.
    let pid = unsafe { libc::wait4(server.id() as i32, &mut status, 0, &mut usage) };
    assert!(pid > 0, "wait4 failed: {}", std::io::Error::last_os_error());
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// `--http-load PORT CONNS REQUESTS`: the load alone, printing req/s.
pub fn load_alone(port: &str, conns: &str, requests: &str) {
    let (conns, requests): (usize, usize) = (conns.parse().unwrap(), requests.parse().unwrap());
    let secs = runtime::block_on(load(port.parse().unwrap(), conns, requests));
    println!("{:.0} requests/s", (conns * requests) as f64 / secs);
}

/// The load: `conns` connections, each making `requests` GETs in turn and
/// reading each whole answer. Returns the seconds it took.
async fn load(port: u16, conns: usize, requests: usize) -> f64 {
    let mut streams = Vec::new();
    for _ in 0..conns {
        let stream = runtime::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        stream.set_nodelay(true).unwrap();
        streams.push(stream);
    }
    let start = Instant::now();
    let clients = streams.into_iter().map(|mut stream| async move {
        let mut buf = Vec::with_capacity(1024);
        for _ in 0..requests {
            stream
                .write_all(b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n")
                .await
                .unwrap();
            read_response(&mut stream, &mut buf).await;
        }
    });
    runtime::gather(clients).await;
    start.elapsed().as_secs_f64()
}

/// Reads one response (head, then a Content-Length body) out of `stream`.
async fn read_response(stream: &mut runtime::net::TcpStream, buf: &mut Vec<u8>) {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).unwrap();
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .expect("a Content-Length");
            if buf.len() >= end + 4 + length {
                buf.drain(..end + 4 + length);
                return;
            }
        }
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the server closed mid-answer");
        buf.extend_from_slice(&chunk[..n]);
    }
}

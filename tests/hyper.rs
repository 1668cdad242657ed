//! hyper on looplet, checked from outside: curl (a client we did not write)
//! against a hyper server on our loop, over HTTP/1.1 and HTTP/2, and
//! hyper-util's pooled client making many requests over few connections.
//!
//! Run with `cargo test -p tests --features hyper --test hyper`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use runtime::hyper::{Connector, Executor, Io, Timer};
use runtime::net::TcpListener;

type Body = http_body_util::combinators::BoxBody<Bytes, hyper::Error>;

fn full(text: impl Into<Bytes>) -> Body {
    Full::new(text.into())
        .map_err(|never| match never {})
        .boxed()
}

/// `GET /` says hello; `POST /echo` streams the request body back;
/// `GET /delay` answers after 50 ms on our timer.
async fn handle(request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    Ok(match (request.method().as_str(), request.uri().path()) {
        ("POST", "/echo") => Response::new(request.into_body().boxed()),
        ("GET", "/delay") => {
            runtime::time::sleep(Duration::from_millis(50)).await;
            Response::new(full("slept\n"))
        }
        _ => Response::new(full("hello from looplet\n")),
    })
}

/// A server on its own thread and loop; returns its address and a count of
/// the connections it accepted.
fn serve(http2: bool) -> (SocketAddr, Arc<AtomicUsize>) {
    let accepted = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = std::sync::mpsc::channel();
    let count = accepted.clone();
    std::thread::spawn(move || {
        runtime::block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                count.fetch_add(1, Ordering::Relaxed);
                drop(runtime::spawn(async move {
                    let service = hyper::service::service_fn(handle);
                    let _ = if http2 {
                        hyper::server::conn::http2::Builder::new(Executor)
                            .timer(Timer)
                            .serve_connection(Io::new(stream), service)
                            .await
                    } else {
                        hyper::server::conn::http1::Builder::new()
                            .timer(Timer)
                            .header_read_timeout(Duration::from_millis(300))
                            .serve_connection(Io::new(stream), service)
                            .await
                    };
                }));
            }
        })
    });
    (rx.recv().unwrap(), accepted)
}

fn curl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "20"])
        .args(args)
        .output()
        .expect("curl is installed (.ci/run installs it)");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn curl_gets_hello_over_http1() {
    let (addr, _) = serve(false);
    let body = curl(&[&format!("http://{addr}/")]);
    assert_eq!(body, b"hello from looplet\n");
}

#[test]
fn a_1_mb_post_is_echoed_intact() {
    let (addr, _) = serve(false);
    let data: Vec<u8> = (0..1_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let path = std::env::temp_dir().join(format!("looplet-hyper-post-{}", std::process::id()));
    std::fs::write(&path, &data).unwrap();
    let body = curl(&[
        "--data-binary",
        &format!("@{}", path.display()),
        "-H",
        "Content-Type: application/octet-stream",
        &format!("http://{addr}/echo"),
    ]);
    let _ = std::fs::remove_file(&path);
    assert_eq!(body.len(), data.len());
    assert!(body == data, "every byte echoed, in order");
}

#[test]
fn curl_reuses_one_keep_alive_connection_for_three_requests() {
    let (addr, accepted) = serve(false);
    let url = format!("http://{addr}/");
    let body = curl(&[&url, &url, &url]);
    assert_eq!(body, b"hello from looplet\n".repeat(3));
    assert_eq!(
        accepted.load(Ordering::Relaxed),
        1,
        "one connection, reused"
    );
}

#[test]
fn curl_speaks_http2_with_prior_knowledge() {
    let (addr, _) = serve(true);
    let out = curl(&[
        "--http2-prior-knowledge",
        "--write-out",
        " version=%{http_version}",
        &format!("http://{addr}/"),
    ]);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "hello from looplet\n version=2"
    );
}

/// The header-read timeout runs on our `Timer`: a client that sends half a
/// request line and stops is cut off after 300 ms, not kept forever.
#[test]
fn a_stalled_request_is_cut_off_by_the_header_read_timeout() {
    use std::io::{Read, Write};
    let (addr, _) = serve(false);
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(b"GET / HT").unwrap();
    let start = std::time::Instant::now();
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest); // ends when the server hangs up
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(250), "{waited:?}");
    assert!(
        waited < Duration::from_secs(5),
        "cut off by the timeout: {waited:?}"
    );
}

/// hyper-util's pooled `Client`, built from our executor, timer and
/// connector: 1,000 requests from 8 workers go over a few reused
/// connections, every answer checked.
#[test]
fn the_pooled_client_makes_1000_requests_over_a_few_connections() {
    use hyper_util::client::legacy::Client;
    let (addr, accepted) = serve(false);
    runtime::block_on(async move {
        let client: Client<Connector, Full<Bytes>> = Client::builder(Executor)
            .timer(Timer)
            .pool_timer(Timer)
            .build(Connector);
        let workers = (0..8).map(|_| {
            let client = client.clone();
            runtime::spawn(async move {
                for _ in 0..125 {
                    let uri: hyper::Uri = format!("http://{addr}/").parse().unwrap();
                    let response = client.get(uri).await.unwrap();
                    assert!(response.status().is_success());
                    let body = response.into_body().collect().await.unwrap().to_bytes();
                    assert_eq!(&body[..], b"hello from looplet\n");
                }
            })
        });
        for done in runtime::gather(workers).await {
            done.unwrap();
        }
    });
    let connections = accepted.load(Ordering::Relaxed);
    assert!(
        (1..=16).contains(&connections),
        "{connections} connections for 1,000 requests"
    );
}

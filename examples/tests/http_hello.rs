//! Drives the `http_hello` server (`examples/http.rs`) with `curl`, a real
//! HTTP client we did not write, and with our own client (`fetch_by_hand`).

use std::net::SocketAddr;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use examples::http;

/// Starts the server on a free port, on a loop in its own thread.
fn start_server() -> SocketAddr {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        runtime::block_on(async move {
            let listener = runtime::net::TcpListener::bind("127.0.0.1:0")
                .await
                .unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            examples::serve(listener, http::handle).await;
        })
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the server starts")
}

fn curl(args: &[&str]) -> (String, String) {
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl is installed (.ci/run installs it; or `apt-get install curl`)");
    assert!(
        output.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn curl_gets_status_headers_and_body() {
    let addr = start_server();
    let (out, _) = curl(&["--include", &format!("http://{addr}/hello")]);
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    let body = "Hello from looplet! You asked for /hello\n";
    assert!(
        out.contains(&format!("Content-Length: {}\r\n", body.len())),
        "{out}"
    );
    assert!(out.ends_with(&format!("\r\n\r\n{body}")), "{out}");
}

#[test]
fn curl_reuses_one_keep_alive_connection_for_two_requests() {
    let addr = start_server();
    let (out, err) = curl(&[
        "--verbose",
        &format!("http://{addr}/one"),
        &format!("http://{addr}/two"),
    ]);
    assert!(
        out.contains("asked for /one") && out.contains("asked for /two"),
        "{out}"
    );
    let err = err.to_lowercase();
    assert!(
        err.contains("re-using existing connection") || err.contains("reusing existing connection"),
        "curl opened a second connection: {err}"
    );
}

#[test]
fn fetch_all_gets_every_url_concurrently() {
    let addr = start_server();
    runtime::block_on(async {
        let urls: Vec<String> = (0..20)
            .map(|_| format!("http://{addr}/delay/200"))
            .collect();
        let start = std::time::Instant::now();
        let responses = runtime::try_gather(urls.iter().map(|u| http::get(u)))
            .await
            .unwrap();
        // Twenty 200 ms answers one after another take 4 s; at once, ~200 ms.
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
        assert!(responses
            .iter()
            .all(|r| r.status == 200 && r.body.contains("after 200 ms")));
    });
}

#[test]
fn a_bad_url_is_a_clear_error() {
    runtime::block_on(async {
        let err = http::get("https://example.com/").await.unwrap_err();
        assert!(err.to_string().contains("only http://"), "{err}");
    });
}

/// A chunked POST on a keep-alive connection is refused with 501 and the
/// connection is closed: its body is never read as the next request.
#[test]
fn a_chunked_body_is_refused_and_the_connection_closed_not_misread() {
    use std::io::{Read, Write};
    let addr = start_server();
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // The chunk's data is itself a request line: a server that skipped the
    // body would answer it as a second request.
    let smuggled = "GET /smuggled HTTP/1.1\r\n\r\n";
    let request = format!(
        "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
         {:x}\r\n{smuggled}\r\n0\r\n\r\n",
        smuggled.len()
    );
    conn.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap(); // ends: the server closed
    assert!(
        answer.starts_with("HTTP/1.1 501 Not Implemented\r\n"),
        "{answer}"
    );
    assert!(answer.contains("Connection: close"), "{answer}");
    assert!(
        answer.contains("Content-Length, not Transfer-Encoding"),
        "{answer}"
    );
    assert_eq!(
        answer.matches("HTTP/1.1").count(),
        1,
        "one answer only: {answer}"
    );
    assert!(!answer.contains("smuggled"), "{answer}");
}

/// A Content-Length that is not a number is a 400, not a guess.
#[test]
fn a_bad_content_length_is_refused() {
    use std::io::{Read, Write};
    let addr = start_server();
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    conn.write_all(b"POST / HTTP/1.1\r\nContent-Length: lots\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer}"
    );
}

//! Drives the `http_hello` server (`examples/http.rs`) with `curl`, a real
//! HTTP client we did not write, and with our own `fetch_all` client.

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

//! A tiny HTTP/1.1 server: keep-alive connections, `Content-Length` bodies,
//! and `/delay/MS` to answer after MS milliseconds.
//!
//! `cargo run --release --example http_hello [ADDR]` (default
//! 127.0.0.1:8080), then open <http://127.0.0.1:8080/> in a browser, or:
//!
//! ```sh
//! curl -v http://127.0.0.1:8080/hello
//! curl http://127.0.0.1:8080/delay/500
//! ```
//!
//! The protocol code is in `examples/http.rs`; this file only starts it.

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    runtime::block_on(async {
        let listener = runtime::net::TcpListener::bind(addr.as_str()).await?;
        println!("http_hello listening on http://{}/", listener.local_addr()?);
        examples::serve(listener, examples::http::handle).await;
        Ok(())
    })
}

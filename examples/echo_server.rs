//! An echo server: every byte a client sends comes back. asyncio's
//! `asyncio.start_server(handle, "127.0.0.1", 7000)` with a handler that
//! writes back what it reads.
//!
//! Run it with `cargo run --release --example echo_server [ADDR]` (default
//! 127.0.0.1:7000), then talk to it with
//! `cargo run --example echo_client -- --lines`, or load it with
//! `cargo run --release --example echo_client`.
//!
//! The accept loop and the handler are `examples::serve` and
//! `examples::echo` (in `examples/lib.rs`), so the same code serves here and
//! in `c10k`.

// ANCHOR: main
fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7000".into());
    runtime::block_on(async {
        let listener = runtime::net::TcpListener::bind(addr.as_str()).await?;
        println!("echo server listening on {}", listener.local_addr()?);
        examples::serve(listener, examples::echo).await;
        Ok(())
    })
}
// ANCHOR_END: main

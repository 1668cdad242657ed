//! The `echo_server` example written for tokio's single-threaded runtime,
//! so the two can be measured under the same load (syscalls per echoed
//! message, in the chapter "A TCP echo server"). Same accept loop, same
//! 4 KiB buffer, same handler.
//!
//! `cargo run --release --example echo_server_tokio [ADDR]` (default
//! 127.0.0.1:7001); load it with `echo_client ADDR`.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7001".into());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr.as_str()).await?;
        println!("tokio echo server listening on {}", listener.local_addr()?);
        loop {
            match listener.accept().await {
                Ok((mut conn, _)) => {
                    tokio::spawn(async move {
                        let mut buf = [0; 4096];
                        loop {
                            match conn.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => {
                                    if conn.write_all(&buf[..n]).await.is_err() {
                                        return;
                                    }
                                }
                            }
                        }
                    });
                }
                Err(e) => {
                    eprintln!("accept failed: {e}; retrying in 100 ms");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
    })
}

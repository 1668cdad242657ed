//! hyper, the HTTP library most Rust servers stand on, served by looplet's
//! loop on one thread: HTTP/1.1 with keep-alive and HTTP/2 (with prior
//! knowledge) on one port, a streaming echo, and a header-read timeout on
//! looplet's timer. The glue is `runtime::hyper`'s `Io`, `Executor` and
//! `Timer`; the server is `examples/hyper_app.rs`.
//!
//! ```sh
//! cargo run --release --example hyper_server --features hyper
//! curl http://127.0.0.1:8080/                          # HTTP/1.1
//! curl http://127.0.0.1:8080/ http://127.0.0.1:8080/   # two requests, one connection
//! curl --http2-prior-knowledge http://127.0.0.1:8080/  # HTTP/2
//! curl --data-binary @Cargo.lock http://127.0.0.1:8080/echo
//! curl http://127.0.0.1:8080/delay/500                 # waits on a timer, holds no thread
//! ```
//!
//! `--demo` runs those requests itself (with curl) and exits.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use examples::hyper_app;
use runtime::net::TcpListener;

fn main() -> std::io::Result<()> {
    let demo = std::env::args().any(|a| a == "--demo");
    runtime::block_on(async move {
        let addr = if demo {
            "127.0.0.1:0"
        } else {
            "127.0.0.1:8080"
        };
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let accepted = Arc::new(AtomicUsize::new(0));
        let server = runtime::spawn(hyper_app::serve(listener, accepted.clone()));
        println!("hyper on looplet, serving http://{addr}/ (HTTP/1.1 and HTTP/2)");
        if !demo {
            return server.await.map_err(std::io::Error::other);
        }
        let url = format!("http://{addr}/");
        for args in [
            vec![url.clone(), url.clone()],
            vec!["--http2-prior-knowledge".into(), url.clone()],
            vec![format!("http://{addr}/delay/200")],
            vec![
                "--data-binary".into(),
                "hello, echo".into(),
                format!("{url}echo"),
            ],
        ] {
            // curl blocks, so it runs on the pool while the loop serves it.
            let shown: Vec<String> = args
                .iter()
                .map(|a| {
                    if a.contains(' ') {
                        format!("{a:?}")
                    } else {
                        a.clone()
                    }
                })
                .collect();
            let shown = shown.join(" ");
            let out = runtime::spawn_blocking(move || {
                std::process::Command::new("curl")
                    .arg("-s")
                    .args(&args)
                    .output()
            })
            .await
            .map_err(std::io::Error::other)??;
            print!("$ curl {shown}\n{}", String::from_utf8_lossy(&out.stdout));
            if !String::from_utf8_lossy(&out.stdout).ends_with('\n') {
                println!();
            }
        }
        println!(
            "{} connections accepted for 5 requests: the first two shared one (keep-alive)",
            accepted.load(Ordering::Relaxed)
        );
        Ok(())
    })
}

//! Loads an echo server: CONNS connections at once, each sending MESSAGES
//! messages of 64 bytes and waiting for each echo before the next. Prints
//! the messages per second and checks every byte that came back.
//!
//! `cargo run --release --example echo_client [ADDR] [CONNS] [MESSAGES]`
//! (defaults: 127.0.0.1:7000, 100 connections, 1,000 messages each).
//!
//! `cargo run --example echo_client -- --lines [ADDR]` talks to the server
//! by hand instead: type a line, get it back (what `nc` would do, for
//! machines that do not have it).

use std::time::Instant;

use runtime::net::TcpStream;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("--lines") {
        args.next();
        return by_hand(args.next().unwrap_or_else(|| "127.0.0.1:7000".into()));
    }
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:7000".into());
    let conns: usize = args
        .next()
        .map_or(100, |s| s.parse().expect("CONNS is a number"));
    let messages: usize = args
        .next()
        .map_or(1_000, |s| s.parse().expect("MESSAGES is a number"));
    examples::raise_fd_limit(conns as u64 + 64)?;
    runtime::block_on(async {
        let start = Instant::now();
        let clients = (0..conns).map(|id| {
            let addr = addr.clone();
            async move {
                let mut stream = TcpStream::connect(addr).await?;
                stream.set_nodelay(true)?;
                let mut message = [b'.'; 64];
                let mut back = [0; 64];
                for round in 0..messages {
                    let stamp = format!("{id}:{round}");
                    message[..stamp.len()].copy_from_slice(stamp.as_bytes());
                    stream.write_all(&message).await?;
                    stream.read_exact(&mut back).await?;
                    assert_eq!(back, message, "the echo differs from what was sent");
                }
                Ok::<usize, std::io::Error>(messages)
            }
        });
        let echoed: usize = runtime::try_gather(clients).await?.iter().sum();
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{conns} connections echoed {echoed} messages of 64 bytes in {secs:.2} s: \
             {:.0} messages/s, every byte checked",
            echoed as f64 / secs
        );
        Ok(())
    })
}

/// One connection, driven from the keyboard: each line typed is sent, and
/// its echo printed. Reading the terminal blocks, so it goes to the pool.
fn by_hand(addr: String) -> std::io::Result<()> {
    runtime::block_on(async {
        let mut stream = TcpStream::connect(addr.as_str()).await?;
        println!("connected to {addr}: type a line and get it back; Ctrl-D ends");
        loop {
            let line = runtime::spawn_blocking(|| {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line).map(|_| line)
            })
            .await
            .map_err(std::io::Error::other)??;
            if line.is_empty() {
                return Ok(()); // end of input
            }
            stream.write_all(line.as_bytes()).await?;
            let mut back = vec![0; line.len()];
            stream.read_exact(&mut back).await?;
            print!("echo: {}", String::from_utf8_lossy(&back));
        }
    })
}

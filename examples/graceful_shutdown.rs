//! A graceful shutdown: an echo server that, on Ctrl-C or SIGTERM, stops
//! accepting, gives the open connections a deadline to finish, and reports
//! what it drained. asyncio's `loop.add_signal_handler(SIGTERM, ...)` with
//! a server's `close()` and `wait_closed()`.
//!
//! Run it with `cargo run --example graceful_shutdown`, connect a few
//! clients (`cargo run --example echo_client` in another terminal, or any
//! TCP client on 127.0.0.1:7100), then press Ctrl-C (or `kill -TERM` the
//! process). With `--demo`, the program starts its own three slow clients
//! and sends itself SIGTERM after half a second.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use runtime::net::{TcpListener, TcpStream};
use runtime::signal::signal;
use runtime::stream::StreamExt;
use runtime::time::{sleep, timeout};
use runtime::{race, Either, TaskGroup};

/// Echoes until the client closes; counts the connection when it ends.
async fn echo(mut conn: TcpStream, finished: Rc<Cell<u32>>) {
    let mut buf = [0; 1024];
    while let Ok(n @ 1..) = conn.read(&mut buf).await {
        if conn.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    finished.set(finished.get() + 1);
}

/// A client that talks for a while: `rounds` messages, 200 ms apart.
async fn slow_client(port: u16, rounds: u32) {
    let mut conn = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut reply = [0; 5];
    for _ in 0..rounds {
        conn.write_all(b"hello").await.unwrap();
        conn.read_exact(&mut reply).await.unwrap();
        sleep(Duration::from_millis(200)).await;
    }
}

fn main() {
    let demo = std::env::args().any(|a| a == "--demo");
    runtime::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:7100").await.unwrap();
        println!(
            "echo server on {}; Ctrl-C or SIGTERM to stop",
            listener.local_addr().unwrap()
        );
        let mut terms = signal(libc::SIGTERM).unwrap();
        let mut interrupts = signal(libc::SIGINT).unwrap();
        if demo {
            for rounds in [2, 4, 30] {
                drop(runtime::spawn(slow_client(7100, rounds)));
            }
            drop(runtime::spawn(async {
                sleep(Duration::from_millis(500)).await;
                // SAFETY: kill(2) on our own pid touches no memory.
                unsafe { libc::kill(libc::getpid(), libc::SIGTERM) };
            }));
        }

        // ANCHOR: serve
        // Serve until a signal comes.
        let finished = Rc::new(Cell::new(0));
        let mut connections = TaskGroup::new();
        let stop = race(terms.next(), interrupts.next());
        let mut stop = std::pin::pin!(stop);
        loop {
            match race(stop.as_mut(), listener.accept()).await {
                Either::Left(which) => {
                    let name = if matches!(which, Either::Left(_)) {
                        "SIGTERM"
                    } else {
                        "SIGINT"
                    };
                    println!("{name}: no new connections");
                    break;
                }
                Either::Right(Ok((conn, peer))) => {
                    println!("connection from {peer}");
                    connections.spawn(echo(conn, finished.clone()));
                }
                Either::Right(Err(e)) => eprintln!("accept failed: {e}"),
            }
        }
        drop(listener); // stop accepting: new connects are refused
                        // ANCHOR_END: serve

        // Drain: the open connections get two seconds to finish.
        let open = connections.len();
        println!("waiting up to 2 s for {open} open connection(s)");
        let drained = timeout(Duration::from_secs(2), async {
            while connections.join_next().await.is_some() {}
        })
        .await;
        let cut = open - finished.get() as usize;
        match drained {
            Ok(()) => println!("drained: all {open} connection(s) finished"),
            Err(_) => println!(
                "deadline: {} finished, {cut} cut off (dropping the group closes them)",
                finished.get()
            ),
        }
    });
}

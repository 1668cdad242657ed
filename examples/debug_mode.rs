//! Debug mode, and the loop explaining itself: asyncio's
//! `PYTHONASYNCIODEBUG=1` and `asyncio.all_tasks()`, in looplet.
//!
//! A small server runs with `slow_poll_threshold(100 ms)`: an echo
//! listener, an idle client, a ticker, and a queue consumer. Then one
//! handler does what no handler should: it blocks the loop for half a
//! second with `std::thread::sleep`. The watchdog names it *while* it is
//! stuck; the slow-poll warning follows when it returns. Last, the program
//! prints `runtime::tasks()`: every live task and what it waits on.
//!
//! `cargo run --example debug_mode` (the reports go to stderr).

use std::time::Duration;

use runtime::net::{TcpListener, TcpStream};
use runtime::sync::Queue;
use runtime::time::{interval, sleep};
use runtime::{spawn, spawn_named, Builder};

fn main() -> std::io::Result<()> {
    let rt = Builder::new()
        .slow_poll_threshold(Duration::from_millis(100))
        .build()?;
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        drop(spawn_named(
            "echo-server",
            examples::serve(listener, examples::echo),
        ));
        let mut client = TcpStream::connect(addr).await?;
        drop(spawn_named("idle-client", async move {
            let mut buf = [0; 16];
            client.read(&mut buf).await // the server never speaks first
        }));
        drop(spawn_named("ticker", async {
            let mut every = interval(Duration::from_millis(250));
            loop {
                every.tick().await;
            }
        }));
        let jobs: Queue<String> = Queue::new(8);
        drop(spawn_named("consumer", {
            let jobs = jobs.clone();
            async move {
                loop {
                    let job = jobs.get().await;
                    println!("consumer got {job:?}");
                }
            }
        }));
        sleep(Duration::from_millis(50)).await;

        println!("a handler is about to block the loop for 500 ms (watch stderr) ...");
        spawn_named("bad-handler", async {
            std::thread::sleep(Duration::from_millis(500)); // never do this in a task
        })
        .await
        .unwrap();
        let unnamed = spawn(sleep(Duration::from_secs(3)));
        sleep(Duration::from_millis(10)).await;

        println!("\nruntime::tasks(), asyncio's all_tasks():");
        for task in runtime::tasks() {
            println!("  {task}");
        }
        unnamed.abort();
        Ok(())
    })
}

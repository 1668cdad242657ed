//! Child processes on the event loop: asyncio's `create_subprocess_exec`.
//!
//! Three things at once, on one thread: a child whose output is read line
//! by line while it runs, a child that is too slow and is killed after a
//! timeout, and a ticker that shows the loop never blocked. The exits come
//! through the reactor (a pidfd per child on Linux), not through a thread
//! per child.
//!
//! Run it with `cargo run --example subprocess`.

use std::process::Stdio;
use std::time::{Duration, Instant};

use runtime::process::{ChildStdout, Command};
use runtime::stream::{generate, Stream, StreamExt};
use runtime::time::{interval, timeout};

fn main() {
    runtime::block_on(async {
        let start = Instant::now();
        let ticker = runtime::spawn(async move {
            let mut every = interval(Duration::from_millis(100));
            let mut ticks = 0;
            loop {
                every.tick().await;
                ticks += 1;
                if ticks % 5 == 0 {
                    println!(
                        "  [{:>4.0?}] the loop is free: tick {ticks}",
                        start.elapsed()
                    );
                }
            }
        });

        // A child whose output arrives over time.
        let mut counter = Command::new("sh")
            .args([
                "-c",
                "for i in 1 2 3 4; do echo \"line $i\"; sleep 0.2; done",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .expect("sh is on PATH");
        let mut lines = lines(counter.stdout.take().unwrap());
        while let Some(line) = lines.next().await {
            println!(
                "  [{:>4.0?}] child {}: {line}",
                start.elapsed(),
                counter.id()
            );
        }
        println!(
            "  [{:>4.0?}] child exited: {}",
            start.elapsed(),
            counter.wait().await.unwrap()
        );

        // ANCHOR: kill
        // A child that takes too long: give up after 300 ms and kill it.
        let mut slow = Command::new("sleep").arg("30").spawn().unwrap();
        if timeout(Duration::from_millis(300), slow.wait())
            .await
            .is_err()
        {
            slow.kill().unwrap();
            let status = slow.wait().await.unwrap();
            println!(
                "  [{:>4.0?}] the slow child was killed: {status}",
                start.elapsed()
            );
        }
        // ANCHOR_END: kill

        // And the one-call form, asyncio's `proc.communicate()`.
        let out = Command::new("uname").arg("-s").output().await.unwrap();
        println!(
            "  [{:>4.0?}] uname says {:?}",
            start.elapsed(),
            String::from_utf8_lossy(&out.stdout).trim()
        );
        ticker.abort();
    });
}

/// The lines a child writes, as they come: an async generator over its
/// stdout (asyncio's `async for line in proc.stdout`).
fn lines(mut stdout: ChildStdout) -> impl Stream<Item = String> {
    generate(move |mut y| async move {
        let (mut pending, mut buf) = (Vec::new(), [0; 4096]);
        while let Ok(n @ 1..) = stdout.read(&mut buf).await {
            pending.extend_from_slice(&buf[..n]);
            while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                y.yield_(String::from_utf8_lossy(&line[..end]).into_owned())
                    .await;
            }
        }
    })
}

//! A short program to watch with `LOOPLET_TRACE=1`: one task sleeps and
//! then hands a value through a queue, one job runs on the blocking pool,
//! and the main future waits for both.
//!
//! `LOOPLET_TRACE=1 cargo run --example trace_me`
//!
//! The book's chapter "Seeing inside the loop" shows this program's trace;
//! `book/scripts/regenerate-trace.sh` runs it and stores what it printed.

use std::time::Duration;

use runtime::sync::Queue;

fn main() {
    runtime::block_on(async {
        let queue = Queue::new(1);
        let producer = runtime::spawn_named("producer", {
            let queue = queue.clone();
            async move {
                runtime::time::sleep(Duration::from_millis(20)).await;
                queue.put("hello").await;
            }
        });
        let job = runtime::spawn_blocking(|| 6 * 7);
        let word = queue.get().await;
        let answer = job.await.unwrap();
        producer.await.unwrap();
        println!("{word}, {answer}");
    });
}

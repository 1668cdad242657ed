//! A tour of looplet: what the runtime can do so far, step by step, told in
//! words a newcomer (especially one who knows Python's asyncio) can follow.
//!
//! Run it with `cargo run --example tour`.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;

use runtime::{gather, spawn, yield_now};

fn main() {
    println!("looplet tour\n");

    // 1. block_on: asyncio.run(main())
    println!("1. block_on runs one future to completion on an event loop on this thread.");
    let answer = runtime::block_on(async { 6 * 7 });
    println!("   block_on(async {{ 6 * 7 }}) returned {answer}.\n");

    runtime::block_on(async {
        spawn_and_interleave().await;
        gather_many().await;
        abort_a_task().await;
        catch_a_panic().await;
    });

    println!("That is the event loop. Next chapters add timers, a blocking pool and sockets.");
}

/// 2. spawn: asyncio.create_task(coro)
async fn spawn_and_interleave() {
    println!("2. spawn starts tasks; they take turns whenever one of them awaits.");
    let log = Rc::new(RefCell::new(Vec::new()));
    let tasks: Vec<_> = ["A", "B", "C"]
        .into_iter()
        .map(|name| {
            let log = log.clone();
            spawn(async move {
                for step in 1..=2 {
                    log.borrow_mut().push(format!("{name}{step}"));
                    yield_now().await; // asyncio.sleep(0): let the others run
                }
                name
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("these tasks do not fail");
    }
    println!(
        "   three tasks, each yielding once, ran in this order: {}",
        log.borrow().join(" ")
    );
    println!("   (one thread, no locks: they interleave only where they await)\n");
}

/// 3. gather: asyncio.gather(*aws)
async fn gather_many() {
    println!("3. gather runs many futures at once inside one task and keeps their order.");
    let start = Instant::now();
    let squares = gather((1..=10_000u64).map(|n| async move {
        yield_now().await;
        n * n
    }))
    .await;
    let total: u64 = squares.iter().sum();
    println!(
        "   gathered 10,000 futures in {:.1?}; the first three are {:?}, the sum is {total}.",
        start.elapsed(),
        &squares[..3]
    );
    let (number, word) = runtime::gather!(async { 1 }, async { "one" }).await;
    println!("   gather!(a, b) mixes types and gives a tuple: ({number}, {word:?})\n");
}

/// 4. abort: task.cancel()
async fn abort_a_task() {
    println!("4. abort cancels a task: its future is dropped at its next turn.");
    let endless = spawn(async {
        loop {
            yield_now().await;
        }
    });
    yield_now().await;
    endless.abort();
    match endless.await {
        Err(e) if e.is_cancelled() => println!("   awaiting the aborted task gives: {e}\n"),
        other => println!("   unexpected: {other:?}\n"),
    }
}

/// 5. A panic in a task is caught: the loop and the other tasks go on.
async fn catch_a_panic() {
    println!("5. A panic inside a task is caught; the loop and other tasks keep running.");
    // Silence the default "thread panicked" message for this one planned panic.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let failing = spawn(async {
        yield_now().await;
        panic!("something went wrong in a task");
    });
    let healthy = spawn(async { "the healthy task finished" });
    let failure = failing.await.expect_err("the task panicked");
    std::panic::set_hook(default_hook);
    println!("   awaiting the failed task gives an error: {failure}");
    println!("   and meanwhile: {}\n", healthy.await.unwrap());
}

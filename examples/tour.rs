//! A tour of looplet: what the runtime can do so far, step by step, told in
//! words a newcomer (especially one who knows Python's asyncio) can follow.
//!
//! Run it with `cargo run --example tour`.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use runtime::net::{TcpListener, TcpStream};
use runtime::time::{sleep, timeout};
use runtime::{gather, spawn, spawn_blocking, yield_now};

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
        sleep_and_timeout().await;
        offload_blocking_work().await;
        tcp_round_trip().await;
        queue_between_tasks().await;
        list_the_tasks().await;
    });

    println!("That is the event loop, its timers, its blocking pool, its sockets and its queues.");
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

/// 6. Timers: asyncio.sleep and asyncio.wait_for
async fn sleep_and_timeout() {
    println!("6. sleep waits without blocking the loop; timeout gives up on slow work.");
    let start = Instant::now();
    let (_, _, _) = runtime::gather!(
        sleep(Duration::from_millis(30)),
        sleep(Duration::from_millis(20)),
        sleep(Duration::from_millis(10)),
    )
    .await;
    println!(
        "   three sleeps of 30, 20 and 10 ms, gathered, took {:.0?}: they overlap.",
        start.elapsed()
    );
    let slow = timeout(Duration::from_millis(15), sleep(Duration::from_secs(10))).await;
    println!("   a 10 s sleep under a 15 ms timeout gives: {slow:?}\n");
}

/// 7. spawn_blocking: loop.run_in_executor(None, f)
async fn offload_blocking_work() {
    println!("7. spawn_blocking runs blocking code on a pool thread, so the loop stays free.");
    let loop_thread = std::thread::current().id();
    let job = spawn_blocking(move || {
        std::thread::sleep(Duration::from_millis(50)); // blocking: fine here
        std::thread::current().id() != loop_thread
    });
    let mut ticks = 0;
    while !job.is_finished() {
        sleep(Duration::from_millis(5)).await;
        ticks += 1;
    }
    let elsewhere = job.await.unwrap();
    println!("   the job slept 50 ms on another thread ({elsewhere}); meanwhile the loop ticked {ticks} times.\n");
}

/// 8. TCP: asyncio.start_server and asyncio.open_connection
async fn tcp_round_trip() {
    println!("8. Sockets: a server task and a client talk over TCP on the same loop.");
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a free port");
    let addr = listener.local_addr().unwrap();
    let server = spawn(async move {
        let (mut conn, peer) = listener.accept().await?;
        let mut buf = [0; 64];
        let n = conn.read(&mut buf).await?;
        let shout = String::from_utf8_lossy(&buf[..n]).to_uppercase();
        conn.write_all(shout.as_bytes()).await?;
        Ok::<_, std::io::Error>(peer)
    });
    let mut client = TcpStream::connect(addr).await.expect("connect");
    client.write_all(b"hello, loop").await.unwrap();
    let mut reply = [0; 11];
    client.read_exact(&mut reply).await.unwrap();
    let peer = server.await.unwrap().unwrap();
    println!(
        "   the server on {addr} accepted {peer}, read \"hello, loop\" and answered {:?}.",
        String::from_utf8_lossy(&reply)
    );
    let refused = TcpStream::connect(("127.0.0.1", 1)).await.unwrap_err();
    println!("   connecting where nobody listens is an error, not a crash: {refused}\n");
}

/// 9. Queue: asyncio.Queue, and `async for` over it
async fn queue_between_tasks() {
    use runtime::stream::StreamExt;
    println!(
        "9. A Queue connects a producer task to a consumer; a full queue makes the producer wait."
    );
    let mut queue = runtime::sync::Queue::new(2);
    let producer = spawn({
        let queue = queue.clone();
        async move {
            for word in ["looplet", "says", "hello", "through", "a", "queue"] {
                queue.put(Some(word)).await; // waits while 2 items are already in
            }
            queue.put(None).await; // "no more"
        }
    });
    let mut words = Vec::new();
    // `async for word in queue`: a Queue is a Stream.
    while let Some(Some(word)) = queue.next().await {
        words.push(word);
    }
    producer.await.unwrap();
    println!("   the consumer read, in order: {}\n", words.join(" "));
}

/// 10. tasks(): asyncio.all_tasks()
async fn list_the_tasks() {
    println!("10. runtime::tasks() lists the live tasks and says what each one waits on.");
    let sleeper = runtime::spawn_named("sleeper", sleep(Duration::from_secs(5)));
    let waiter = spawn(sleeper); // a task that awaits another one's JoinHandle
    let queue: runtime::sync::Queue<u8> = runtime::sync::Queue::new(0);
    let consumer = runtime::spawn_named("consumer", {
        let queue = queue.clone();
        async move { queue.get().await }
    });
    yield_now().await; // let them start and reach their waits
    for task in runtime::tasks() {
        println!("   {task}");
    }
    waiter.abort();
    consumer.abort();
    println!("   (run with LOOPLET_TRACE=1 to watch every turn of the loop, or see examples/debug_mode.rs)\n");
}

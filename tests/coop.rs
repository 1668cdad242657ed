//! The cooperative budget: a task whose awaits are always ready must still
//! let timers, sockets and other tasks run. Each test pairs such a task with
//! a 5 ms sleep and a TCP echo, and fails (by its deadline) if either is
//! starved. None of these tests times anything: without the budget they
//! do not finish at all.

use std::cell::Cell;
use std::future::Future;
use std::io::Write;
use std::rc::Rc;
use std::time::Duration;

use runtime::net::{TcpListener, TcpStream};
use runtime::sync::Queue;
use runtime::time::sleep;
use tests::{number_after, with_deadline, ChildTest};

const LIMIT: Duration = Duration::from_secs(60);

/// A 5 ms sleep and one TCP echo round trip, from a task that shares the
/// loop with a hog. Returns when both are done.
async fn the_loop_still_serves_others() {
    sleep(Duration::from_millis(5)).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = runtime::spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut buf = [0; 4];
        conn.read_exact(&mut buf).await.unwrap();
        conn.write_all(&buf).await.unwrap();
    });
    let mut client = TcpStream::connect(addr).await.unwrap();
    client.write_all(b"ping").await.unwrap();
    let mut reply = [0; 4];
    client.read_exact(&mut reply).await.unwrap();
    assert_eq!(&reply, b"ping");
    server.await.unwrap();
}

#[test]
fn a_queue_that_is_never_empty_does_not_freeze_the_loop() {
    with_deadline(LIMIT, || {
        runtime::block_on(async {
            let queue = Queue::new(0);
            let rounds = Rc::new(Cell::new(0u64));
            let hog = runtime::spawn({
                let (queue, rounds) = (queue.clone(), rounds.clone());
                async move {
                    queue.put(0).await;
                    loop {
                        // Always ready: the queue always has the item back.
                        let item = queue.get().await;
                        queue.put(item).await;
                        rounds.set(rounds.get() + 1);
                    }
                }
            });
            the_loop_still_serves_others().await;
            assert!(rounds.get() > 0, "the hog ran too");
            hog.abort();
        })
    });
}

#[test]
fn a_socket_that_is_always_readable_does_not_freeze_the_loop() {
    with_deadline(LIMIT, || {
        runtime::block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            // A plain thread writes into the connection without pause.
            let flood = std::thread::spawn(move || {
                let mut peer = std::net::TcpStream::connect(addr).unwrap();
                let chunk = [1u8; 64 * 1024];
                while peer.write_all(&chunk).is_ok() {}
            });
            let (mut conn, _) = listener.accept().await.unwrap();
            let hog = runtime::spawn(async move {
                let mut byte = [0; 1];
                // One byte at a time: the kernel always has more.
                while conn.read(&mut byte).await.unwrap_or(0) > 0 {}
            });
            the_loop_still_serves_others().await;
            hog.abort();
            let _ = hog.await; // drops the connection: the flood ends
            flood.join().unwrap();
        })
    });
}

#[test]
fn join_handles_and_events_that_are_always_ready_yield_too() {
    with_deadline(LIMIT, || {
        runtime::block_on(async {
            let event = runtime::sync::Event::new();
            event.set();
            let hog = runtime::spawn({
                let event = event.clone();
                async move {
                    let done = runtime::spawn(async {});
                    let _ = done.await;
                    loop {
                        event.wait().await; // set: always ready
                    }
                }
            });
            the_loop_still_serves_others().await;
            hog.abort();
        })
    });
}

#[test]
fn locks_semaphores_and_exited_children_that_are_always_ready_yield_too() {
    with_deadline(LIMIT, || {
        runtime::block_on(async {
            let lock = Rc::new(runtime::sync::Lock::new(0u64));
            let semaphore = Rc::new(runtime::sync::Semaphore::new(1));
            // One hog at a time, so each kind of wait must yield by itself.
            for which in ["lock", "semaphore", "wait"] {
                let hog = runtime::spawn({
                    let (lock, semaphore) = (lock.clone(), semaphore.clone());
                    async move {
                        let mut child = runtime::process::Command::new("true").spawn().unwrap();
                        child.wait().await.unwrap();
                        loop {
                            // Free, free, exited: each is ready at once.
                            match which {
                                "lock" => *lock.lock().await += 1,
                                "semaphore" => drop(semaphore.acquire().await),
                                _ => drop(child.wait().await.unwrap()),
                            }
                        }
                    }
                });
                the_loop_still_serves_others().await;
                hog.abort();
            }
            assert!(*lock.try_lock().unwrap() > 0, "the lock hog ran too");
        })
    });
}

/// The child half of `an_accept_loop_that_never_backs_off_recovers_from_emfile`.
/// The accept loop everyone writes first: on error, just `continue`.
#[test]
fn child_naive_accept_loop() {
    if std::env::var_os("LOOPLET_COOP_CHILD").is_none() {
        return;
    }
    tests::set_fd_limit(48);
    runtime::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("port {}", listener.local_addr().unwrap().port());
        let ticks = Rc::new(Cell::new(0u32));
        drop(runtime::spawn({
            let ticks = ticks.clone();
            async move {
                loop {
                    sleep(Duration::from_millis(5)).await;
                    ticks.set(ticks.get() + 1);
                }
            }
        }));
        let (mut accepted, mut errors) = (0u32, 0u64);
        // ANCHOR: naive_accept
        while accepted < 100 {
            match listener.accept().await {
                Ok((mut conn, _)) => {
                    accepted += 1;
                    // Holds its descriptor until the client closes.
                    drop(runtime::spawn(async move {
                        let mut buf = [0; 16];
                        while conn.read(&mut buf).await.unwrap_or(0) > 0 {}
                    }));
                }
                Err(_) => errors += 1, // no back-off at all
            }
        }
        // ANCHOR_END: naive_accept
        println!("accepted {accepted} errors {errors} ticks {}", ticks.get());
    });
}

#[test]
fn an_accept_loop_that_never_backs_off_recovers_from_emfile() {
    let (child, port) = ChildTest::start("child_naive_accept_loop", ("LOOPLET_COOP_CHILD", "1"));
    // More connections than the child has descriptors: its accept fails
    // with EMFILE, again and again, until handlers close some.
    let conns: Vec<std::net::TcpStream> = (0..100)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    drop(conns); // the handlers see end of stream and free descriptors
    let (rest, _) = child.finish(
        Duration::from_secs(30),
        "the accept loop spun and never let its handlers run",
    );
    assert!(rest.contains("accepted 100"), "{rest}");
    let ticks = number_after(&rest, "ticks ");
    assert!(
        ticks > 0,
        "the 5 ms timer never fired while the loop spun: {rest}"
    );
    let errors = number_after(&rest, "errors ");
    assert!(errors > 0, "the child never ran out of descriptors: {rest}");
}

#[test]
fn gather_stops_polling_children_when_the_budget_is_spent() {
    // 20,000 children that are ready at once, each spending one unit of
    // budget: a gather that kept polling after the budget ran out would
    // poll each yielding child again every round, about n^2/256 polls.
    with_deadline(LIMIT, || {
        runtime::block_on(async {
            let event = runtime::sync::Event::new();
            event.set();
            let polls = Rc::new(Cell::new(0u64));
            let n = 20_000u64;
            let children = (0..n).map(|_| {
                let (event, polls) = (&event, polls.clone());
                let mut wait = Box::pin(event.wait());
                std::future::poll_fn(move |cx| {
                    polls.set(polls.get() + 1);
                    wait.as_mut().poll(cx)
                })
            });
            runtime::gather(children).await;
            assert!(
                polls.get() <= 3 * n,
                "{} child polls for {n} children",
                polls.get()
            );
        })
    });
}

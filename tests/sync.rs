//! Queue, Semaphore, Event, Lock, Condition, Barrier and oneshot against
//! the public API: nothing lost,
//! nothing duplicated, waiters served in arrival order, and a cancelled
//! waiter never strands the others.

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use runtime::stream::StreamExt;
use runtime::sync::{oneshot, Barrier, Condition, Event, Lock, Queue, Semaphore};
use runtime::time::timeout;
use runtime::{block_on, spawn, yield_now};
use tests::with_deadline;

const LIMIT: Duration = Duration::from_secs(30);

/// Polls `future` once, so it joins a wait list, and gives back whether it
/// finished.
async fn poll_once<F: Future + Unpin>(future: &mut F) -> bool {
    poll_fn(|cx| Poll::Ready(std::pin::Pin::new(&mut *future).poll(cx).is_ready())).await
}

#[test]
fn a_queue_with_many_producers_and_consumers_loses_and_reorders_nothing() {
    with_deadline(LIMIT, || {
        block_on(async {
            let queue = Queue::new(16);
            let taken = Rc::new(RefCell::new(Vec::new()));
            let producers: Vec<_> = (0..10u32)
                .map(|p| {
                    let queue = queue.clone();
                    spawn(async move {
                        for seq in 0..1_000u32 {
                            queue.put((p, seq)).await;
                            if seq % 7 == 0 {
                                yield_now().await;
                            }
                        }
                    })
                })
                .collect();
            let consumers: Vec<_> = (0..10)
                .map(|_| {
                    let (queue, taken) = (queue.clone(), taken.clone());
                    spawn(async move {
                        for _ in 0..1_000 {
                            let item = queue.get().await;
                            taken.borrow_mut().push(item);
                            yield_now().await;
                        }
                    })
                })
                .collect();
            for task in producers.into_iter().chain(consumers) {
                task.await.unwrap();
            }
            let taken = taken.borrow();
            assert_eq!(taken.len(), 10_000);
            // Each producer's items come out in the order it put them, once.
            let mut next = [0u32; 10];
            for &(p, seq) in taken.iter() {
                assert_eq!(
                    seq, next[p as usize],
                    "producer {p}: lost, repeated or reordered"
                );
                next[p as usize] += 1;
            }
            assert!(queue.is_empty());
        })
    });
}

#[test]
fn put_on_a_full_queue_waits_for_a_get() {
    block_on(async {
        let queue = Queue::new(1);
        queue.put(1).await;
        assert_eq!(
            queue.try_put(99),
            Err(99),
            "full: try_put gives the item back"
        );
        let putter = spawn({
            let queue = queue.clone();
            async move { queue.put(2).await }
        });
        for _ in 0..5 {
            yield_now().await;
        }
        assert!(
            !putter.is_finished(),
            "put returned while the queue was full"
        );
        assert_eq!(queue.len(), 1);
        assert_eq!(queue.get().await, 1);
        putter.await.unwrap();
        assert_eq!(queue.try_get(), Some(2));
        assert_eq!(queue.try_get(), None);
    });
}

#[test]
fn getters_and_putters_are_served_in_arrival_order() {
    with_deadline(LIMIT, || {
        block_on(async {
            let queue = Queue::new(1);
            let got = Rc::new(RefCell::new(Vec::new()));
            let getters: Vec<_> = (0..5)
                .map(|id| {
                    let (queue, got) = (queue.clone(), got.clone());
                    spawn(async move {
                        let item = queue.get().await;
                        got.borrow_mut().push((id, item));
                    })
                })
                .collect();
            yield_now().await; // every getter is now waiting, in order
            for item in 0..5 {
                queue.put(item).await;
            }
            for g in getters {
                g.await.unwrap();
            }
            assert_eq!(*got.borrow(), [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4)]);

            // Putters on a full queue get in in the order they came.
            queue.put(100).await;
            let putters: Vec<_> = (0..5)
                .map(|id| {
                    let queue = queue.clone();
                    spawn(async move { queue.put(id).await })
                })
                .collect();
            yield_now().await;
            let mut order = Vec::new();
            for _ in 0..6 {
                order.push(queue.get().await);
            }
            assert_eq!(order, [100, 0, 1, 2, 3, 4]);
            for p in putters {
                p.await.unwrap();
            }
        })
    });
}

#[test]
fn a_getter_cancelled_after_it_was_handed_an_item_gives_it_back() {
    block_on(async {
        let queue = Queue::new(0);
        let mut first = Box::pin(queue.get());
        let mut second = Box::pin(queue.get());
        assert!(!poll_once(&mut first).await);
        assert!(!poll_once(&mut second).await);
        queue.put("only").await; // handed to `first`, which never runs again
        drop(first); // e.g. cancelled by a timeout
        assert!(poll_once(&mut second).await, "the item was passed on");
        // And with nobody else waiting, it goes back into the queue.
        let mut third = Box::pin(queue.get());
        assert!(!poll_once(&mut third).await);
        queue.put("again").await;
        drop(third);
        assert_eq!(queue.try_get(), Some("again"));
    });
}

#[test]
fn a_get_under_timeout_leaves_no_trace() {
    block_on(async {
        let queue: Queue<u32> = Queue::new(0);
        assert!(timeout(Duration::from_millis(10), queue.get())
            .await
            .is_err());
        queue.put(7).await;
        assert_eq!(queue.len(), 1, "the timed-out get took nothing");
        assert_eq!(queue.get().await, 7);
    });
}

#[test]
fn a_semaphore_of_k_never_lets_more_than_k_in() {
    with_deadline(LIMIT, || {
        block_on(async {
            let sem = Semaphore::new(3);
            let (inside, most) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
            let tasks: Vec<_> = (0..50)
                .map(|i| {
                    let (sem, inside, most) = (sem.clone(), inside.clone(), most.clone());
                    spawn(async move {
                        let _permit = sem.acquire().await;
                        inside.set(inside.get() + 1);
                        most.set(most.get().max(inside.get()));
                        for _ in 0..(i % 4) {
                            yield_now().await;
                        }
                        runtime::time::sleep(Duration::from_millis(1)).await;
                        inside.set(inside.get() - 1);
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            assert_eq!(most.get(), 3, "at most 3 holders, and 3 were reached");
            assert_eq!(sem.available_permits(), 3, "every permit came back");
        })
    });
}

#[test]
fn a_waiter_cancelled_by_timeout_loses_no_permit() {
    block_on(async {
        let sem = Semaphore::new(1);
        let held = sem.acquire().await;
        assert!(timeout(Duration::from_millis(10), sem.acquire())
            .await
            .is_err());
        drop(held);
        assert_eq!(sem.available_permits(), 1);

        // Harder: the waiter is handed the permit, then dropped before it runs.
        let held = sem.acquire().await;
        let mut first = Box::pin(sem.acquire());
        let mut second = Box::pin(sem.acquire());
        assert!(!poll_once(&mut first).await);
        assert!(!poll_once(&mut second).await);
        drop(held); // the permit goes to `first`...
        drop(first); // ...which is cancelled: it must pass it to `second`
        assert!(poll_once(&mut second).await, "the permit was passed on");
        drop(second); // finished, its permit (dropped with the output) is back
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn semaphore_waiters_are_served_in_order_and_none_is_starved() {
    block_on(async {
        let sem = Semaphore::new(1);
        let order = Rc::new(RefCell::new(Vec::new()));
        let held = sem.acquire().await;
        let waiters: Vec<_> = (0..5)
            .map(|id| {
                let (sem, order) = (sem.clone(), order.clone());
                spawn(async move {
                    let _p = sem.acquire().await;
                    order.borrow_mut().push(id);
                    yield_now().await;
                })
            })
            .collect();
        yield_now().await;
        // A latecomer that tries while others wait must not jump the line,
        // not even in the moment after a release, before the woken waiter
        // has run: the permit was handed to it, not put back.
        assert!(sem.try_acquire().is_none());
        drop(held);
        assert!(
            sem.try_acquire().is_none(),
            "a latecomer took the released permit"
        );
        assert_eq!(sem.available_permits(), 0);
        for w in waiters {
            w.await.unwrap();
        }
        assert_eq!(*order.borrow(), [0, 1, 2, 3, 4]);
    });
}

#[test]
fn an_event_wakes_every_waiter() {
    with_deadline(LIMIT, || {
        block_on(async {
            let event = Event::new();
            let waiters: Vec<_> = (0..10)
                .map(|_| {
                    let event = event.clone();
                    spawn(async move { event.wait().await })
                })
                .collect();
            yield_now().await;
            assert!(waiters.iter().all(|w| !w.is_finished()));
            event.set();
            event.clear(); // cleared before they run: they were already woken
            for w in waiters {
                w.await.unwrap();
            }
            assert!(!event.is_set());
            assert!(timeout(Duration::from_millis(10), event.wait())
                .await
                .is_err());
            event.set();
            event.wait().await; // set: returns at once
        })
    });
}

#[test]
fn a_dropped_oneshot_sender_gives_the_receiver_an_error() {
    block_on(async {
        let (tx, rx) = oneshot::channel::<u32>();
        drop(tx);
        let err = rx.await.unwrap_err();
        assert!(!err.to_string().is_empty());
    });
}

#[test]
fn a_oneshot_sent_from_a_std_thread_reaches_a_task() {
    with_deadline(LIMIT, || {
        block_on(async {
            let (tx, rx) = oneshot::channel();
            let thread = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                tx.send(String::from("from a thread")).unwrap();
            });
            let task = spawn(rx);
            assert_eq!(task.await.unwrap().unwrap(), "from a thread");
            thread.join().unwrap();
        })
    });
}

#[test]
fn queue_interval_and_incoming_are_streams() {
    with_deadline(LIMIT, || {
        block_on(async {
            let mut queue = Queue::new(0);
            let producer = spawn({
                let queue = queue.clone();
                async move {
                    for i in 1..=3 {
                        queue.put(i).await;
                        yield_now().await;
                    }
                }
            });
            let mut sum = 0;
            while let Some(i) = queue.next().await {
                sum += i;
                if i == 3 {
                    break;
                }
            }
            assert_eq!(sum, 6);
            producer.await.unwrap();

            let mut ticks = runtime::time::interval(Duration::from_millis(2));
            let first = ticks.next().await.unwrap();
            let second = ticks.next().await.unwrap();
            assert!(second - first >= Duration::from_millis(2));

            let listener = runtime::net::TcpListener::bind("127.0.0.1:0")
                .await
                .unwrap();
            let addr = listener.local_addr().unwrap();
            let clients = spawn(async move {
                let a = runtime::net::TcpStream::connect(addr).await.unwrap();
                let b = runtime::net::TcpStream::connect(addr).await.unwrap();
                (a, b)
            });
            let mut incoming = listener.incoming();
            let mut accepted = 0;
            while let Some(conn) = incoming.next().await {
                conn.unwrap();
                accepted += 1;
                if accepted == 2 {
                    break;
                }
            }
            drop(clients.await.unwrap());
        })
    });
}

#[test]
fn a_pinned_get_is_cancel_safe_inside_gather() {
    // try_gather drops the pending get when a sibling fails; the queue must
    // still deliver later items to later getters.
    block_on(async {
        let queue: Queue<u8> = Queue::new(0);
        let failing = async { Err::<u8, &str>("no") };
        let waiting = async { Ok(queue.get().await) };
        let result = runtime::try_gather(vec![
            Box::pin(waiting) as std::pin::Pin<Box<dyn Future<Output = Result<u8, &str>>>>,
            Box::pin(failing),
        ])
        .await;
        assert_eq!(result, Err("no"));
        queue.put(5).await;
        let mut get = pin!(queue.get());
        assert_eq!(get.as_mut().await, 5);
    });
}

/// Live wait-list entries of a primitive, read from its `Debug` line
/// (`waiters: N`, or `getters`/`putters` for a queue).
fn entries(debug: &str, field: &str) -> usize {
    debug
        .split(&format!("{field}: "))
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in {debug}"))
}

#[test]
fn cancelled_waits_behind_a_live_waiter_leave_no_entries() {
    with_deadline(LIMIT, || {
        block_on(async {
            let event = Event::new();
            let sem = Semaphore::new(0);
            let queue: Queue<u32> = Queue::new(1);
            // One patient waiter in front of each list.
            let patient_wait = spawn({
                let event = event.clone();
                async move { event.wait().await }
            });
            let patient_acquire = spawn({
                let sem = sem.clone();
                async move { drop(sem.acquire().await) }
            });
            let patient_get = spawn({
                let queue = queue.clone();
                async move { queue.get().await }
            });
            yield_now().await;
            for _ in 0..50_000 {
                assert!(timeout(Duration::ZERO, event.wait()).await.is_err());
                assert!(timeout(Duration::ZERO, sem.acquire()).await.is_err());
                assert!(timeout(Duration::ZERO, queue.get()).await.is_err());
            }
            assert_eq!(entries(&format!("{event:?}"), "waiters"), 1);
            assert_eq!(entries(&format!("{sem:?}"), "waiters"), 1);
            assert_eq!(entries(&format!("{queue:?}"), "getters"), 1);
            // And a full queue's putters.
            queue.try_put(1).unwrap(); // handed to the patient getter
            assert_eq!(patient_get.await.unwrap(), 1);
            queue.try_put(2).unwrap();
            for i in 0..50_000 {
                assert!(timeout(Duration::ZERO, queue.put(i)).await.is_err());
            }
            assert_eq!(entries(&format!("{queue:?}"), "putters"), 0);
            event.set();
            patient_wait.await.unwrap();
            assert_eq!(entries(&format!("{event:?}"), "waiters"), 0);
            patient_acquire.abort();
            let _ = patient_acquire.await;
            assert_eq!(entries(&format!("{sem:?}"), "waiters"), 0);
        })
    });
}

/// The child half of `a_storm_of_cancelled_waits_returns_memory_to_baseline`.
#[test]
fn child_cancelled_wait_storm() {
    let Some(kind) = std::env::var_os("LOOPLET_STORM_CHILD") else {
        return;
    };
    let kind = kind.into_string().unwrap();
    block_on(async {
        let event = Event::new();
        let sem = Semaphore::new(0);
        let queue: Queue<u32> = Queue::new(0);
        let _patients = (
            spawn({
                let event = event.clone();
                async move { event.wait().await }
            }),
            spawn({
                let sem = sem.clone();
                async move { drop(sem.acquire().await) }
            }),
            spawn({
                let queue = queue.clone();
                async move { queue.get().await }
            }),
        );
        yield_now().await;
        let storm = |n: u32| {
            let (event, sem, queue, kind) = (&event, &sem, &queue, kind.as_str());
            async move {
                for _ in 0..n {
                    let cancelled = match kind {
                        "event" => timeout(Duration::ZERO, event.wait()).await.is_err(),
                        "semaphore" => timeout(Duration::ZERO, sem.acquire()).await.is_err(),
                        _ => timeout(Duration::ZERO, queue.get()).await.is_err(),
                    };
                    assert!(cancelled);
                }
            }
        };
        storm(100_000).await; // warm up: the allocator's pools, the timer tree
        let before = examples_rss();
        storm(1_000_000).await;
        let after = examples_rss();
        println!("rss before {before} after {after}");
    });
}

/// This process's resident memory in bytes, from /proc.
fn examples_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = status.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[test]
#[cfg(target_os = "linux")]
fn a_storm_of_cancelled_waits_returns_memory_to_baseline() {
    for kind in ["event", "semaphore", "queue"] {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "child_cancelled_wait_storm", "--nocapture"])
            .env("LOOPLET_STORM_CHILD", kind)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{kind}: {stdout}");
        let numbers: Vec<u64> = stdout
            .split("rss before ")
            .nth(1)
            .expect("the child reports its memory")
            .split(" after ")
            .map(|s| s.split_whitespace().next().unwrap().parse().unwrap())
            .collect();
        let grew = numbers[1].saturating_sub(numbers[0]);
        // A leak of 16 bytes per cancelled wait would be 16 MB here.
        assert!(
            grew < 4 << 20,
            "{kind}: 1,000,000 cancelled waits grew memory by {grew} bytes"
        );
    }
}

#[test]
fn a_queue_never_holds_more_than_maxsize_and_loses_nothing() {
    block_on(async {
        let queue = Queue::new(1);
        let getter = spawn({
            let queue = queue.clone();
            async move { queue.get().await }
        });
        yield_now().await; // the getter waits
        queue.try_put("A").unwrap(); // handed to the getter
        assert_eq!(queue.len(), 1, "A counts until the getter takes it");
        assert_eq!(queue.try_put("B"), Err("B"), "no room: A takes it");
        getter.abort(); // the getter never ran: A comes back
        assert!(getter.await.unwrap_err().is_cancelled());
        assert_eq!(queue.len(), 1);
        assert_eq!(queue.try_get(), Some("A"));
        assert_eq!(queue.try_get(), None);
    });
}

#[test]
fn a_cancelled_put_drops_its_item_outside_the_queues_borrow() {
    /// An item whose `Drop` uses the queue it was meant for.
    struct Touches(Queue<Touches>, Rc<Cell<u32>>);
    impl Drop for Touches {
        fn drop(&mut self) {
            self.1.set(self.1.get() + 1);
            // Panicked with "already mutably borrowed" before.
            let _ = (self.0.len(), self.0.is_empty());
        }
    }
    block_on(async {
        let dropped = Rc::new(Cell::new(0));
        let queue = Queue::new(1);
        queue
            .try_put(Touches(queue.clone(), dropped.clone()))
            .ok()
            .unwrap();
        let mut put = Box::pin(queue.put(Touches(queue.clone(), dropped.clone())));
        assert!(
            !poll_once(&mut put).await,
            "the queue is full: the put waits"
        );
        drop(put); // cancelled: its item is dropped, and touches the queue
        assert_eq!(dropped.get(), 1);
        // The one in the queue is still there, and so is the queue.
        assert_eq!(queue.len(), 1);
        drop(queue.try_get());
    });
}

thread_local! {
    /// The primitives the waker of the next test looks at when woken.
    static PEEKED: RefCell<Option<(Event, Semaphore, Queue<u8>)>> = const { RefCell::new(None) };
    static PEEKS: Cell<u32> = const { Cell::new(0) };
}

#[test]
fn a_waker_that_uses_the_primitive_is_woken_outside_its_borrow() {
    use std::sync::Arc;
    use std::task::{Context, Wake};
    /// A waker whose `wake` reads the primitives it waited on, as a user's
    /// own executor or combinator might.
    struct Peek;
    impl Wake for Peek {
        fn wake(self: Arc<Self>) {
            PEEKED.with(|p| {
                let p = p.borrow();
                let (event, sem, queue) = p.as_ref().unwrap();
                // Each panicked "already mutably borrowed" before.
                let _ = (event.is_set(), sem.available_permits(), queue.len());
            });
            PEEKS.with(|n| n.set(n.get() + 1));
        }
    }
    block_on(async {
        let (event, sem, queue) = (Event::new(), Semaphore::new(1), Queue::new(0));
        let held = sem.try_acquire().unwrap();
        PEEKED.with(|p| *p.borrow_mut() = Some((event.clone(), sem.clone(), queue.clone())));
        let waker = std::task::Waker::from(Arc::new(Peek));
        let mut cx = Context::from_waker(&waker);
        let mut wait = pin!(event.wait());
        let mut acquire = pin!(sem.acquire());
        let mut get = pin!(queue.get());
        assert!(wait.as_mut().poll(&mut cx).is_pending());
        assert!(acquire.as_mut().poll(&mut cx).is_pending());
        assert!(get.as_mut().poll(&mut cx).is_pending());
        event.set();
        queue.try_put(5).unwrap();
        drop(held); // the permit goes to the waiting acquire
        assert_eq!(
            PEEKS.with(Cell::get),
            3,
            "every waker ran, finding nothing borrowed"
        );
        assert_eq!(get.as_mut().poll(&mut cx), Poll::Ready(5));
        assert_eq!(wait.as_mut().poll(&mut cx), Poll::Ready(()));
        assert!(acquire.as_mut().poll(&mut cx).is_ready());
        PEEKED.with(|p| p.borrow_mut().take());
    });
}

#[test]
fn a_storm_of_cancelled_puts_and_gets_loses_and_doubles_nothing() {
    /// An item that counts its own drops.
    struct Item(u32, Rc<Cell<u32>>);
    impl Drop for Item {
        fn drop(&mut self) {
            self.1.set(self.1.get() + 1);
        }
    }
    with_deadline(LIMIT, || {
        block_on(async {
            let drops = Rc::new(Cell::new(0));
            let made = Rc::new(Cell::new(0));
            let received = Rc::new(RefCell::new(Vec::new()));
            let queue = Queue::new(4);
            let sem = Semaphore::new(2);
            let mut seed = 0x9e37_79b9u32;
            let mut next = move || {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed
            };
            let mut tasks = Vec::new();
            for i in 0..2_000u32 {
                let (queue, sem, drops, made, received) = (
                    queue.clone(),
                    sem.clone(),
                    drops.clone(),
                    made.clone(),
                    received.clone(),
                );
                let patience = Duration::from_micros(u64::from(next() % 300));
                tasks.push(spawn(async move {
                    if i % 2 == 0 {
                        let item = Item(i, drops);
                        made.set(made.get() + 1);
                        let _ = timeout(patience, queue.put(item)).await;
                    } else if let Ok(item) = timeout(patience, queue.get()).await {
                        let _permit = sem.acquire().await;
                        received.borrow_mut().push(item.0);
                    }
                }));
            }
            // Abort a random third of them, wherever they are.
            for task in &tasks {
                if next() % 3 == 0 {
                    task.abort();
                }
            }
            for task in tasks {
                let _ = task.await;
            }
            let left = std::iter::from_fn(|| queue.try_get()).count() as u32;
            let got = received.borrow().len() as u32;
            let mut seen = received.borrow().clone();
            seen.sort();
            seen.dedup();
            assert_eq!(seen.len() as u32, got, "no item was delivered twice");
            // Every item made was dropped exactly once: delivered, left in
            // the queue, or dropped with its cancelled put.
            assert!(made.get() > 100, "the storm made items");
            assert_eq!(drops.get(), made.get(), "{got} received, {left} left");
            assert_eq!(sem.available_permits(), 2, "every permit came back");
            assert_eq!(entries(&format!("{queue:?}"), "getters"), 0);
            assert_eq!(entries(&format!("{queue:?}"), "putters"), 0);
        })
    });
}

// Lock, Condition, Barrier, and Queue's task_done / join.

#[test]
fn a_lock_is_fair_and_try_lock_does_not_jump_the_line() {
    with_deadline(LIMIT, || {
        block_on(async {
            let lock = Rc::new(Lock::new(Vec::new()));
            let held = lock.lock().await;
            let waiters: Vec<_> = (0..3)
                .map(|i| {
                    let lock = lock.clone();
                    spawn(async move { lock.lock().await.push(i) })
                })
                .collect();
            yield_now().await; // all three wait, in order 0, 1, 2
            drop(held); // handed to waiter 0, which has not run yet
            assert!(
                lock.try_lock().is_none(),
                "the lock is promised to waiter 0"
            );
            for w in waiters {
                w.await.unwrap();
            }
            assert_eq!(*lock.lock().await, [0, 1, 2]);
        })
    });
}

#[test]
fn a_lock_handed_to_its_only_waiter_is_still_held() {
    block_on(async {
        let lock = Lock::new(0);
        let held = lock.lock().await;
        let mut waiter = Box::pin(lock.lock());
        assert!(!poll_once(&mut waiter).await);
        drop(held); // handed to the waiter, which has not run yet
        assert!(
            lock.try_lock().is_none(),
            "promised: nobody else may take it"
        );
        let mut guard = waiter.await;
        *guard += 1;
        assert!(lock.try_lock().is_none(), "held by the waiter's guard");
        drop(guard);
        assert_eq!(*lock.try_lock().expect("unlocked now"), 1);
    });
}

#[test]
fn a_lock_guard_unlocks_on_drop_and_on_panic() {
    with_deadline(LIMIT, || {
        block_on(async {
            let lock = Rc::new(Lock::new(0));
            let panicker = spawn({
                let lock = lock.clone();
                async move {
                    let mut guard = lock.lock().await;
                    *guard = 5;
                    panic!("holder panics");
                }
            });
            assert!(panicker.await.unwrap_err().is_panic());
            // No poisoning: the data as last written.
            assert_eq!(*lock.try_lock().expect("unlocked by the unwind"), 5);
        })
    });
}

#[test]
fn cancelled_lock_waiters_leave_nothing_and_pass_the_lock_on() {
    with_deadline(LIMIT, || {
        block_on(async {
            let lock = Lock::new(());
            let held = lock.lock().await;
            for _ in 0..50_000 {
                assert!(timeout(Duration::ZERO, lock.lock()).await.is_err());
            }
            assert_eq!(entries(&format!("{lock:?}"), "waiters"), 0);
            // Handed the lock, then dropped before it ran: passed on.
            let mut first = Box::pin(lock.lock());
            let mut second = Box::pin(lock.lock());
            assert!(!poll_once(&mut first).await);
            assert!(!poll_once(&mut second).await);
            drop(held);
            drop(first);
            assert!(
                poll_once(&mut second).await,
                "the lock went to the next waiter"
            );
        })
    });
}

#[test]
fn condition_wait_for_rides_out_spurious_notifies() {
    with_deadline(LIMIT, || {
        block_on(async {
            let (count, changed) = (Rc::new(Lock::new(0)), Rc::new(Condition::new()));
            let waiter = spawn({
                let (count, changed) = (count.clone(), changed.clone());
                async move {
                    let guard = count.lock().await;
                    let guard = changed.wait_for(guard, |n| *n >= 3).await;
                    *guard
                }
            });
            for _ in 0..5 {
                yield_now().await;
                *count.lock().await += 1;
                changed.notify_all(); // the first two wake it for nothing
            }
            assert!(waiter.await.unwrap() >= 3);
        })
    });
}

#[test]
fn a_notify_with_nobody_waiting_is_not_remembered() {
    with_deadline(LIMIT, || {
        block_on(async {
            let (lock, cond) = (Rc::new(Lock::new(())), Rc::new(Condition::new()));
            cond.notify(1); // nobody waits: lost, as in asyncio
            let guard = lock.lock().await;
            let waited = timeout(Duration::from_millis(20), cond.wait(guard)).await;
            assert!(waited.is_err(), "the earlier notify was not kept");
            // notify(1) wakes one of two.
            let woken = Rc::new(Cell::new(0));
            let waiters: Vec<_> = (0..2)
                .map(|_| {
                    let (lock, cond, woken) = (lock.clone(), cond.clone(), woken.clone());
                    spawn(async move {
                        let guard = lock.lock().await;
                        drop(cond.wait(guard).await);
                        woken.set(woken.get() + 1);
                    })
                })
                .collect();
            yield_now().await;
            cond.notify(1);
            for _ in 0..5 {
                yield_now().await;
            }
            assert_eq!(woken.get(), 1);
            cond.notify_all();
            for w in waiters {
                w.await.unwrap();
            }
            assert_eq!(woken.get(), 2);
        })
    });
}

#[test]
fn a_barrier_lets_each_round_go_together_and_is_reusable() {
    with_deadline(LIMIT, || {
        block_on(async {
            let barrier = Rc::new(Barrier::new(3));
            for _round in 0..2 {
                let tasks: Vec<_> = (0..3)
                    .map(|_| {
                        let barrier = barrier.clone();
                        spawn(async move { barrier.wait().await })
                    })
                    .collect();
                let mut indices = Vec::new();
                for t in tasks {
                    indices.push(t.await.unwrap());
                }
                indices.sort();
                assert_eq!(indices, [0, 1, 2]);
            }
            // A waiter that gives up leaves its round: two more still fill it
            // only with a third.
            assert!(timeout(Duration::from_millis(5), barrier.wait())
                .await
                .is_err());
            let a = spawn({
                let barrier = barrier.clone();
                async move { barrier.wait().await }
            });
            let b = spawn({
                let barrier = barrier.clone();
                async move { barrier.wait().await }
            });
            yield_now().await;
            assert!(!a.is_finished() && !b.is_finished(), "two of three arrived");
            barrier.wait().await;
            a.await.unwrap();
            b.await.unwrap();
        })
    });
}

#[test]
fn queue_join_waits_until_every_item_is_marked_done() {
    with_deadline(LIMIT, || {
        block_on(async {
            let queue = Queue::new(0);
            queue.join().await; // nothing put: ready at once
            for i in 0..3 {
                queue.put(i).await;
            }
            let done = Rc::new(Cell::new(0));
            let worker = spawn({
                let (queue, done) = (queue.clone(), done.clone());
                async move {
                    for _ in 0..3 {
                        let _item = queue.get().await;
                        yield_now().await; // "work"
                        done.set(done.get() + 1);
                        queue.task_done();
                    }
                }
            });
            queue.join().await;
            assert_eq!(done.get(), 3, "join returned only after three task_done");
            worker.await.unwrap();
        })
    });
}

#[test]
#[should_panic(expected = "more times than items were put")]
fn task_done_without_an_item_panics_and_says_why() {
    block_on(async {
        let queue: Queue<u8> = Queue::new(0);
        queue.task_done();
    });
}

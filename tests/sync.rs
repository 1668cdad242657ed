//! Queue, Semaphore, Event and oneshot against the public API: nothing lost,
//! nothing duplicated, waiters served in arrival order, and a cancelled
//! waiter never strands the others.

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use runtime::stream::StreamExt;
use runtime::sync::{oneshot, Event, Queue, Semaphore};
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

//! Tasks, wakers and the event loop, through the public API only (gather's
//! tests are in `gather.rs`).
//!
//! Every test that could hang on a lost wakeup runs under `with_deadline`.

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread::{self, ThreadId};
use std::time::Duration;

use runtime::{block_on, spawn, yield_now, JoinHandle, Runtime};
use tests::{forever, wait_for_flag, with_deadline, Counted};

const DEADLINE: Duration = Duration::from_secs(30);

/// Records, when dropped, the thread it was dropped on.
struct DropGuard(Rc<Cell<Option<ThreadId>>>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.set(Some(thread::current().id()));
    }
}

// ---------------------------------------------------------------- entry points

#[test]
fn block_on_returns_the_output() {
    assert_eq!(block_on(async { 40 + 2 }), 42);
}

#[test]
fn nested_block_on_panics_and_says_where() {
    let result = panic::catch_unwind(|| block_on(async { block_on(async { 1 }) }));
    let payload = result.expect_err("a nested block_on must panic");
    let message = payload
        .downcast_ref::<String>()
        .expect("the panic message is a String");
    assert!(
        message.contains("already running an event loop"),
        "{message}"
    );
    assert!(
        message.contains("tasks.rs"),
        "names the call sites: {message}"
    );
    // The thread is usable again afterwards.
    assert_eq!(block_on(async { 7 }), 7);
}

#[test]
fn spawn_outside_a_loop_panics() {
    let payload = panic::catch_unwind(|| drop(spawn(async {}))).expect_err("must panic");
    let message = payload.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("outside a running event loop"),
        "{message}"
    );
}

#[test]
fn a_panic_in_the_main_future_comes_out_of_block_on() {
    let result = panic::catch_unwind(|| block_on(async { panic!("main failed") }));
    let payload = result.expect_err("must panic");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"main failed"));
}

// ---------------------------------------------------------------- tasks

#[test]
fn none_of_100_000_tasks_is_lost() {
    let ran = Rc::new(Cell::new(0usize));
    let total = block_on({
        let ran = ran.clone();
        async move {
            let handles: Vec<JoinHandle<usize>> = (0..100_000)
                .map(|i| {
                    let ran = ran.clone();
                    spawn(async move {
                        ran.set(ran.get() + 1);
                        i
                    })
                })
                .collect();
            let mut total = 0;
            for handle in handles {
                total += handle.await.unwrap();
            }
            total
        }
    });
    assert_eq!(ran.get(), 100_000);
    assert_eq!(total, (0..100_000).sum::<usize>());
}

#[test]
fn a_detached_task_still_runs() {
    let ran = Rc::new(Cell::new(false));
    block_on({
        let ran = ran.clone();
        async move {
            drop(spawn(async move {
                yield_now().await;
                ran.set(true);
            }));
            // Give the detached task its turns.
            for _ in 0..3 {
                yield_now().await;
            }
        }
    });
    assert!(ran.get());
}

#[test]
fn a_panicking_task_leaves_the_loop_and_other_tasks_running() {
    block_on(async {
        let bad = spawn(async {
            yield_now().await;
            panic!("boom in a task");
        });
        let good = spawn(async {
            for _ in 0..10 {
                yield_now().await;
            }
            "still fine"
        });
        let err = bad.await.expect_err("the panic comes back as an error");
        assert!(err.is_panic());
        assert!(!err.is_cancelled());
        assert!(err.to_string().contains("boom in a task"), "{err}");
        assert_eq!(
            err.into_panic().downcast_ref::<&str>(),
            Some(&"boom in a task")
        );
        assert_eq!(good.await.unwrap(), "still fine");
    });
}

#[test]
fn abort_drops_the_future_and_the_handle_reports_cancellation() {
    let dropped_on = Rc::new(Cell::new(None));
    block_on({
        let dropped_on = dropped_on.clone();
        async move {
            let guard = DropGuard(dropped_on.clone());
            let handle = spawn(async move {
                let _guard = guard;
                forever().await;
            });
            yield_now().await; // let it start and park
            assert!(!handle.is_finished());
            handle.abort();
            let err = handle.await.expect_err("an aborted task gives an error");
            assert!(err.is_cancelled());
            assert!(dropped_on.get().is_some(), "the future was dropped");
        }
    });
    assert_eq!(dropped_on.get(), Some(thread::current().id()));
}

#[test]
fn abort_before_the_first_poll_never_runs_the_task() {
    let ran = Rc::new(Cell::new(false));
    block_on({
        let ran = ran.clone();
        async move {
            let handle = spawn(async move { ran.set(true) });
            handle.abort();
            assert!(handle.await.unwrap_err().is_cancelled());
        }
    });
    assert!(!ran.get());
}

#[test]
fn abort_after_the_task_finished_changes_nothing() {
    block_on(async {
        let handle = spawn(async { 5 });
        while !handle.is_finished() {
            yield_now().await;
        }
        handle.abort();
        assert_eq!(handle.await.unwrap(), 5);
    });
}

#[test]
fn pending_tasks_are_dropped_on_the_loop_thread_when_block_on_returns() {
    let dropped_on = Rc::new(Cell::new(None));
    block_on({
        let dropped_on = dropped_on.clone();
        async move {
            let guard = DropGuard(dropped_on);
            drop(spawn(async move {
                let _guard = guard;
                forever().await;
            }));
            yield_now().await;
        }
    });
    assert_eq!(dropped_on.get(), Some(thread::current().id()));
}

#[test]
fn a_pending_task_is_dropped_on_the_loop_thread_even_if_its_waker_is_elsewhere() {
    // The task's waker sits on another thread when the loop ends, and is
    // dropped there later: the future must still be dropped here, at the end.
    let dropped_on = Rc::new(Cell::new(None));
    let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
    block_on({
        let (dropped_on, slot) = (dropped_on.clone(), slot.clone());
        async move {
            let guard = DropGuard(dropped_on);
            let flag = Arc::new(AtomicBool::new(false));
            drop(spawn(async move {
                let _guard = guard;
                wait_for_flag(flag, slot).await;
            }));
            yield_now().await;
        }
    });
    assert_eq!(dropped_on.get(), Some(thread::current().id()));
    let waker = slot
        .lock()
        .unwrap()
        .take()
        .expect("the task stored its waker");
    thread::spawn(move || drop(waker)).join().unwrap();
}

#[test]
#[allow(clippy::async_yields_async)] // the futures return handles on purpose
fn a_runtime_keeps_pending_tasks_between_block_on_calls() {
    let rt = Runtime::new().unwrap();
    let dropped_on = Rc::new(Cell::new(None));
    let handle = rt.block_on({
        let dropped_on = dropped_on.clone();
        async move {
            let guard = DropGuard(dropped_on);
            spawn(async move {
                let _guard = guard;
                yield_now().await;
                yield_now().await;
                "done later"
            })
        }
    });
    assert!(dropped_on.get().is_none(), "still pending, not dropped");
    assert_eq!(rt.block_on(handle).unwrap(), "done later");
    let stuck = rt.block_on(async { spawn(forever()) });
    drop(rt);
    assert_eq!(dropped_on.get(), Some(thread::current().id()));
    // A handle that outlives its runtime reports the task as cancelled.
    let err = Runtime::new().unwrap().block_on(stuck).unwrap_err();
    assert!(err.is_cancelled());
}

#[test]
fn yield_now_lets_every_other_ready_task_run_first() {
    let order = Rc::new(RefCell::new(Vec::new()));
    block_on({
        let order = order.clone();
        async move {
            let a = {
                let order = order.clone();
                spawn(async move {
                    order.borrow_mut().push("a1");
                    yield_now().await;
                    order.borrow_mut().push("a2");
                })
            };
            let b = {
                let order = order.clone();
                spawn(async move {
                    order.borrow_mut().push("b1");
                    yield_now().await;
                    order.borrow_mut().push("b2");
                })
            };
            a.await.unwrap();
            b.await.unwrap();
        }
    });
    assert_eq!(*order.borrow(), ["a1", "b1", "a2", "b2"]);
}

#[test]
fn a_self_waking_task_does_not_starve_wakes_from_other_threads() {
    with_deadline(DEADLINE, || {
        block_on(async {
            let spinner = spawn(async {
                loop {
                    yield_now().await;
                }
            });
            let flag = Arc::new(AtomicBool::new(false));
            let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
            let waiter = spawn(wait_for_flag(flag.clone(), slot.clone()));
            let helper = thread::spawn(move || {
                while slot.lock().unwrap().is_none() {
                    thread::yield_now();
                }
                flag.store(true, Ordering::Release);
                slot.lock().unwrap().take().unwrap().wake();
            });
            waiter.await.unwrap();
            spinner.abort();
            helper.join().unwrap();
        })
    });
}

// ---------------------------------------------------------------- cross-thread wakes

#[test]
fn a_task_woken_from_a_std_thread_while_the_loop_is_parked_runs() {
    // A lost wakeup would hang; the deadline turns that into a failure.
    with_deadline(DEADLINE, || {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for round in 0..300 {
            // xorshift: a small random delay, different each round.
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let delay = Duration::from_micros(seed % 300);
            let flag = Arc::new(AtomicBool::new(false));
            let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
            let (flag2, slot2) = (flag.clone(), slot.clone());
            let got = block_on(async move {
                let task = spawn(wait_for_flag(flag2, slot2));
                let waker_thread = thread::spawn(move || {
                    while slot.lock().unwrap().is_none() {
                        thread::yield_now();
                    }
                    thread::sleep(delay);
                    flag.store(true, Ordering::Release);
                    let waker = slot.lock().unwrap().clone().unwrap();
                    waker.wake();
                });
                task.await.unwrap();
                waker_thread.join().unwrap();
                round
            });
            assert_eq!(got, round);
        }
    });
}

#[test]
fn the_main_future_woken_from_a_std_thread_runs() {
    with_deadline(DEADLINE, || {
        for _ in 0..200 {
            let flag = Arc::new(AtomicBool::new(false));
            let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
            let (flag2, slot2) = (flag.clone(), slot.clone());
            let waker_thread = thread::spawn(move || {
                while slot2.lock().unwrap().is_none() {
                    thread::yield_now();
                }
                flag2.store(true, Ordering::Release);
                slot2.lock().unwrap().clone().unwrap().wake();
            });
            block_on(wait_for_flag(flag, slot));
            waker_thread.join().unwrap();
        }
    });
}

#[test]
fn waking_a_waker_after_its_runtime_is_gone_is_harmless() {
    let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
    let main_slot: Arc<Mutex<Option<Waker>>> = Arc::default();
    block_on({
        let (slot, main_slot) = (slot.clone(), main_slot.clone());
        async move {
            drop(spawn(wait_for_flag(Arc::default(), slot)));
            yield_now().await;
            poll_fn(|cx| {
                *main_slot.lock().unwrap() = Some(cx.waker().clone());
                Poll::Ready(())
            })
            .await;
        }
    });
    let task_waker = slot.lock().unwrap().take().unwrap();
    let main_waker = main_slot.lock().unwrap().take().unwrap();
    // On this thread, with no loop running...
    task_waker.wake_by_ref();
    main_waker.wake_by_ref();
    // ...inside another loop...
    block_on(async {
        task_waker.wake_by_ref();
        main_waker.wake_by_ref();
    });
    // ...and from another thread.
    thread::spawn(move || {
        task_waker.wake();
        main_waker.wake();
    })
    .join()
    .unwrap();
}

#[test]
fn join_error_is_a_std_error_that_can_cross_threads() {
    fn assert_error<E: std::error::Error + Send + Sync + 'static>() {}
    assert_error::<runtime::JoinError>();
    let err = block_on(async {
        let h = spawn(async { panic!("reason") });
        h.await.unwrap_err()
    });
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err);
    assert!(boxed.to_string().contains("panicked: reason"), "{boxed}");
    assert!(
        boxed.to_string().contains("tasks.rs"),
        "names where: {boxed}"
    );
}

#[test]
fn into_panic_on_a_cancelled_error_panics_with_advice() {
    let err = block_on(async {
        let h = spawn(forever());
        h.abort();
        h.await.unwrap_err()
    });
    let payload = panic::catch_unwind(AssertUnwindSafe(|| err.into_panic())).unwrap_err();
    let message = payload.downcast_ref::<String>().unwrap();
    assert!(message.contains("is_panic"), "{message}");
}

#[test]
fn polls_are_counted_once_per_wake() {
    // A wake that arrives while the task is being polled makes exactly one
    // more poll, not zero and not two.
    let polls = Rc::new(Cell::new(0));
    block_on({
        let polls = polls.clone();
        async move {
            let task = spawn(Counted {
                inner: Box::pin(poll_fn({
                    let mut first = true;
                    move |cx| {
                        if first {
                            first = false;
                            cx.waker().wake_by_ref(); // woken during the poll
                            cx.waker().wake_by_ref(); // twice: still one more poll
                            Poll::Pending
                        } else {
                            Poll::Ready(())
                        }
                    }
                })),
                polls: polls.clone(),
            });
            task.await.unwrap();
        }
    });
    assert_eq!(polls.get(), 2);
}

#[test]
fn many_threads_waking_one_task_at_once_lose_nothing() {
    with_deadline(DEADLINE, || {
        let wakes = Arc::new(AtomicUsize::new(0));
        block_on({
            let wakes = wakes.clone();
            async move {
                let target = 4 * 1000;
                let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
                let seen = {
                    let (wakes, slot) = (wakes.clone(), slot.clone());
                    spawn(poll_fn(move |cx| {
                        *slot.lock().unwrap() = Some(cx.waker().clone());
                        if wakes.load(Ordering::Acquire) >= target {
                            Poll::Ready(())
                        } else {
                            Poll::Pending
                        }
                    }))
                };
                yield_now().await;
                let threads: Vec<_> = (0..4)
                    .map(|_| {
                        let (wakes, slot) = (wakes.clone(), slot.clone());
                        thread::spawn(move || {
                            for _ in 0..1000 {
                                wakes.fetch_add(1, Ordering::Release);
                                let waker = slot.lock().unwrap().clone().unwrap();
                                waker.wake();
                            }
                        })
                    })
                    .collect();
                seen.await.unwrap();
                for t in threads {
                    t.join().unwrap();
                }
            }
        });
    });
}

// ANCHOR: dropped_in_place
/// A pinned future must be dropped where it was polled, never moved first:
/// a task's future that borrows from itself (as an `async` block waiting on
/// `queue.get()` does) would otherwise be dropped pointing at freed memory.
/// Checked for abort, for the end of the loop, and for completion.
#[test]
fn a_task_future_is_dropped_in_place_not_moved() {
    use std::marker::PhantomPinned;

    struct Pinned {
        polled_at: Cell<usize>,
        finish: bool,
        _pin: PhantomPinned,
    }
    impl Future for Pinned {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            self.polled_at.set(&*self as *const Pinned as usize);
            if self.finish {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }
    }
    impl Drop for Pinned {
        fn drop(&mut self) {
            let at = self.polled_at.get();
            assert!(
                at == 0 || at == self as *const Pinned as usize,
                "moved before drop"
            );
        }
    }
    let pinned = |finish| Pinned {
        polled_at: Cell::new(0),
        finish,
        _pin: PhantomPinned,
    };
    block_on(async move {
        let aborted = spawn(pinned(false));
        let left_pending = spawn(pinned(false));
        let finished = spawn(pinned(true));
        yield_now().await;
        aborted.abort();
        assert!(aborted.await.unwrap_err().is_cancelled());
        finished.await.unwrap();
        drop(left_pending); // dropped when the loop ends
    });

    // The case that crashed: a task waiting on a queue it owns, aborted.
    block_on(async {
        let queue: runtime::sync::Queue<u8> = runtime::sync::Queue::new(0);
        let getter = spawn({
            let queue = queue.clone();
            async move { queue.get().await }
        });
        yield_now().await;
        getter.abort();
        assert!(getter.await.unwrap_err().is_cancelled());
        drop(queue);
        let owner = spawn(async {
            let queue: runtime::sync::Queue<u8> = runtime::sync::Queue::new(0);
            queue.get().await
        });
        yield_now().await;
        drop(owner); // still pending when the loop ends
    });
}
// ANCHOR_END: dropped_in_place

// ANCHOR: dropped_where_polled
/// The same promise, checked where `drop_future` cannot hide a failure. It
/// catches a panic from a destructor (one bad `Drop` must not take the loop
/// down), so if a future were moved before its drop, the `assert!` above
/// would panic unseen, and the queue case would read stale memory (which
/// Miri reports only if the move also broke a rule of references: a move
/// by byte copy, such as `ManuallyDrop::take`, does not). Here the
/// destructor only writes down what it saw, and the test reads it after the
/// loop.
#[test]
fn a_task_future_is_dropped_at_the_address_it_was_polled_at() {
    use std::marker::PhantomPinned;

    struct Stays {
        polled_at: Cell<usize>,
        finish: bool,
        stayed: Rc<Cell<Option<bool>>>,
        _pin: PhantomPinned,
    }
    impl Future for Stays {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            self.polled_at.set(&*self as *const Stays as usize);
            if self.finish {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }
    }
    impl Drop for Stays {
        fn drop(&mut self) {
            let here = self as *const Stays as usize;
            self.stayed.set(Some(self.polled_at.get() == here));
        }
    }
    let stayed: [Rc<Cell<Option<bool>>>; 3] = Default::default();
    let stays = |i: usize, finish| Stays {
        polled_at: Cell::new(0),
        finish,
        stayed: stayed[i].clone(),
        _pin: PhantomPinned,
    };
    block_on(async {
        let aborted = spawn(stays(0, false));
        let finished = spawn(stays(1, true));
        let left_pending = spawn(stays(2, false));
        yield_now().await;
        aborted.abort();
        assert!(aborted.await.unwrap_err().is_cancelled());
        finished.await.unwrap();
        drop(left_pending); // dropped when the loop ends
    });
    let stayed = stayed.each_ref().map(|s| s.get());
    assert_eq!(
        stayed,
        [Some(true); 3],
        "aborted, finished, left pending: Some(false) means moved, then dropped"
    );
}
// ANCHOR_END: dropped_where_polled

//! Model-checked handshakes: loom runs each closure under every interleaving
//! of the atomics, locks and condvars it can see (the runtime's `sync` shim
//! switches to loom's types under `--cfg loom`), up to the preemption bound.
//!
//! Run with:
//!
//! ```text
//! LOOM_MAX_PREEMPTIONS=2 RUSTFLAGS="--cfg loom" \
//!     cargo test -p runtime --test loom --release --target-dir target/loom
//! ```
//!
//! These drive the real `block_on` and `spawn`: under loom the loop parks on
//! a condvar instead of epoll (see `park.rs`), and everything above that is
//! the code that ships. A lost wakeup shows up as loom reporting a deadlock.
#![cfg(loom)]

use std::cell::RefCell;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

/// A future that, on its first poll, hands a clone of its waker to a new
/// thread which sets `flag` and wakes it; it is ready once `flag` is set.
/// `polls` counts its polls. The thread's handle goes into `spawned`.
fn woken_from_another_thread(
    flag: Arc<AtomicBool>,
    polls: Arc<AtomicUsize>,
    spawned: Rc<RefCell<Option<thread::JoinHandle<()>>>>,
) -> impl std::future::Future<Output = ()> {
    poll_fn(move |cx| {
        polls.fetch_add(1, Ordering::Relaxed);
        if spawned.borrow().is_none() {
            let waker: Waker = cx.waker().clone();
            let flag = flag.clone();
            *spawned.borrow_mut() = Some(thread::spawn(move || {
                flag.store(true, Ordering::Release);
                waker.wake();
            }));
            return Poll::Pending;
        }
        if flag.load(Ordering::Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
}

/// A spawned task woken from another thread while the loop goes to sleep,
/// in the bed `in_poll` names: however they interleave, the loop must wake
/// up and finish (a lost wakeup is a deadlock, which loom reports).
fn task_woken_while_the_loop_sleeps(in_poll: bool) {
    loom::model(move || {
        runtime::__loom::sleep_in_poll(in_poll);
        let flag = Arc::new(AtomicBool::new(false));
        let polls = Arc::new(AtomicUsize::new(0));
        let spawned = Rc::new(RefCell::new(None));
        runtime::block_on({
            let spawned = spawned.clone();
            async move {
                let task = runtime::spawn(woken_from_another_thread(flag, polls, spawned));
                task.await.unwrap();
            }
        });
        spawned.borrow_mut().take().unwrap().join().unwrap();
    });
}

/// The wake races the loop going to sleep in the OS poll (a loop that
/// watches sockets).
#[test]
fn cross_thread_wake_vs_park() {
    task_woken_while_the_loop_sleeps(true);
}

/// The same race, with the loop parked on its thread (it watches no
/// socket): the waker must ring the park bell, not the poll's.
#[test]
fn cross_thread_wake_vs_park_on_the_thread() {
    task_woken_while_the_loop_sleeps(false);
}

/// The same race for the main future, whose waker takes its own path (the
/// loop parked on its thread, as with no socket).
#[test]
fn cross_thread_wake_of_the_main_future_vs_park() {
    loom::model(|| {
        runtime::__loom::sleep_in_poll(false);
        let flag = Arc::new(AtomicBool::new(false));
        let polls = Arc::new(AtomicUsize::new(0));
        let spawned = Rc::new(RefCell::new(None));
        runtime::block_on(woken_from_another_thread(flag, polls, spawned.clone()));
        spawned.borrow_mut().take().unwrap().join().unwrap();
    });
}

/// The wake lands while the task is still inside its first poll (the thread
/// starts during the poll): the task must run again exactly once.
#[test]
fn wake_during_poll_runs_the_task_again_exactly_once() {
    loom::model(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let polls = Arc::new(AtomicUsize::new(0));
        let spawned = Rc::new(RefCell::new(None));
        runtime::block_on({
            let (polls, spawned) = (polls.clone(), spawned.clone());
            async move {
                runtime::spawn(woken_from_another_thread(flag, polls, spawned))
                    .await
                    .unwrap();
            }
        });
        spawned.borrow_mut().take().unwrap().join().unwrap();
        // First poll: Pending. The one wake: exactly one more poll, which
        // sees the flag (the wake's Release orders the store before it).
        assert_eq!(polls.load(Ordering::Relaxed), 2);
    });
}

/// Records the loom thread its owner was dropped on.
struct DropGuard(Rc<RefCell<Option<thread::ThreadId>>>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        *self.0.borrow_mut() = Some(thread::current().id());
    }
}

/// The task finishes while another thread still holds its waker, which it
/// then wakes and drops (possibly the last reference): the future must have
/// been dropped on the loop's thread, never on the waker's.
#[test]
fn last_waker_dropped_on_another_thread_after_the_task_finished() {
    loom::model(|| {
        let loop_thread = thread::current().id();
        let dropped_on = Rc::new(RefCell::new(None));
        let spawned = Rc::new(RefCell::new(None));
        runtime::block_on({
            let (dropped_on, spawned) = (dropped_on.clone(), spawned.clone());
            async move {
                let guard = DropGuard(dropped_on);
                let task = runtime::spawn(poll_fn(move |cx| {
                    let _keep = &guard;
                    let waker = cx.waker().clone();
                    *spawned.borrow_mut() = Some(thread::spawn(move || {
                        waker.wake_by_ref();
                        drop(waker);
                    }));
                    Poll::Ready(())
                }));
                task.await.unwrap();
            }
        });
        spawned.borrow_mut().take().unwrap().join().unwrap();
        assert_eq!(*dropped_on.borrow(), Some(loop_thread));
    });
}

/// The loop ends with the task still pending and its waker on another
/// thread, which wakes it after the loop closed: the future is dropped by
/// the loop's shutdown, on the loop's thread, and the late wake is harmless.
#[test]
fn wake_after_the_loop_ended_is_harmless() {
    loom::model(|| {
        let loop_thread = thread::current().id();
        let dropped_on = Rc::new(RefCell::new(None));
        let spawned = Rc::new(RefCell::new(None));
        runtime::block_on({
            let (dropped_on, spawned) = (dropped_on.clone(), spawned.clone());
            async move {
                let guard = DropGuard(dropped_on);
                drop(runtime::spawn(poll_fn(move |cx| {
                    let _keep = &guard;
                    if spawned.borrow().is_none() {
                        let waker = cx.waker().clone();
                        *spawned.borrow_mut() = Some(thread::spawn(move || waker.wake()));
                    }
                    Poll::<()>::Pending
                })));
                runtime::yield_now().await;
            }
        });
        assert_eq!(*dropped_on.borrow(), Some(loop_thread));
        spawned.borrow_mut().take().unwrap().join().unwrap();
    });
}

/// Counts finished jobs and lets the model wait for a number of them.
#[derive(Default)]
struct Done {
    count: loom::sync::Mutex<usize>,
    changed: loom::sync::Condvar,
}

impl Done {
    fn add_one(&self) {
        *self.count.lock().unwrap() += 1;
        self.changed.notify_all();
    }

    fn wait_for(&self, n: usize) {
        let mut count = self.count.lock().unwrap();
        while *count < n {
            count = self.changed.wait(count).unwrap();
        }
    }
}

/// A pool of one thread: the first job starts it, and the second arrives
/// while that thread may be deciding to retire (under loom a timed wait
/// "times out" at once, at the worst moment). The second job must still run:
/// a stranded job would leave `wait_for(2)` blocked, which loom reports.
#[test]
fn pool_job_submitted_while_last_worker_retires() {
    loom::model(|| {
        let pool = runtime::__loom::Pool::new(1, std::time::Duration::from_secs(10));
        let done = Arc::new(Done::default());
        let d = done.clone();
        pool.submit(Box::new(move || d.add_one()));
        done.wait_for(1);
        let d = done.clone();
        pool.submit(Box::new(move || d.add_one()));
        done.wait_for(2);
        pool.shutdown();
    });
}

/// The lookout (see `blocking.rs`): the first job blocks until the second
/// has run, so the second must get a thread of its own while the first
/// thread is inside its job. A lookout that only ever waited for the queue
/// to move, or one not called for the job left behind, strands the second
/// job, and loom reports the deadlock.
#[test]
fn pool_job_behind_a_blocking_job_gets_a_thread() {
    loom::model(|| {
        let pool = runtime::__loom::Pool::new(2, std::time::Duration::from_secs(10));
        let done = Arc::new(Done::default());
        let (d1, d2) = (done.clone(), done.clone());
        pool.submit(Box::new(move || d1.wait_for(1)));
        pool.submit(Box::new(move || d2.add_one()));
        done.wait_for(1);
        pool.shutdown();
    });
}

/// `spawn_blocking`'s result is sent from a pool thread while the loop may
/// be going to sleep: it must reach the task (a lost wake is a deadlock).
#[test]
fn blocking_result_sent_while_the_loop_parks() {
    loom::model(|| {
        let value = runtime::block_on(async { runtime::spawn_blocking(|| 7).await });
        assert_eq!(value.unwrap(), 7);
    });
}

/// A value sent from another thread reaches the awaiting task.
#[test]
fn oneshot_send_from_another_thread_reaches_the_receiver() {
    loom::model(|| {
        let (tx, rx) = runtime::sync::oneshot::channel();
        let sender = thread::spawn(move || tx.send(5).unwrap());
        assert_eq!(runtime::block_on(rx), Ok(5));
        sender.join().unwrap();
    });
}

/// A sender dropped on another thread gives the receiver an error, never a hang.
#[test]
fn oneshot_sender_dropped_elsewhere_gives_an_error() {
    loom::model(|| {
        let (tx, rx) = runtime::sync::oneshot::channel::<u8>();
        let sender = thread::spawn(move || drop(tx));
        assert!(runtime::block_on(rx).is_err());
        sender.join().unwrap();
    });
}

/// Sending races the receiver being dropped: either the send succeeds and
/// the value is dropped with the receiver, or it fails and the value comes
/// back. Either way it is dropped exactly once.
#[test]
fn oneshot_send_racing_receiver_drop_drops_the_value_once() {
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = runtime::sync::oneshot::channel();
        let value = Counted(drops.clone());
        let sender = thread::spawn(move || {
            if let Err(back) = tx.send(value) {
                drop(back);
            }
        });
        drop(rx);
        sender.join().unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

/// Counts its drops.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// A handle (a socket, a timer) dropped on another thread hands its release
/// to the loop through the injection queue, racing the loop going to sleep.
/// The loop must wake and run the release, on its own thread: a lost
/// hand-back leaves the main future waiting forever, which loom reports.
#[test]
fn handle_dropped_on_another_thread_is_released_on_the_loop_thread() {
    loom::model(|| {
        let loop_thread = thread::current().id();
        let released_on = Arc::new(loom::sync::Mutex::new(None));
        let spawned = Rc::new(RefCell::new(None));
        runtime::block_on({
            let (released_on, spawned) = (released_on.clone(), spawned.clone());
            async move {
                let waker = poll_fn(|cx| Poll::Ready(cx.waker().clone())).await;
                let probe = runtime::__loom::Probe::new({
                    let released_on = released_on.clone();
                    move || {
                        *released_on.lock().unwrap() = Some(thread::current().id());
                        waker.wake();
                    }
                });
                *spawned.borrow_mut() = Some(thread::spawn(move || drop(probe)));
                poll_fn(|_| match released_on.lock().unwrap().is_some() {
                    true => Poll::Ready(()),
                    false => Poll::Pending,
                })
                .await;
            }
        });
        spawned.borrow_mut().take().unwrap().join().unwrap();
        let released_on = *released_on.lock().unwrap();
        assert_eq!(released_on, Some(loop_thread));
    });
}

/// The drop races the loop's end: the release either runs on the loop's
/// thread before it closes, or is dropped unrun; what it holds is dropped
/// exactly once either way, and never queued where nobody will look.
#[test]
fn handle_dropped_while_the_loop_ends_is_released_or_dropped_once() {
    loom::model(|| {
        let loop_thread = thread::current().id();
        let released_on = Arc::new(loom::sync::Mutex::new(None));
        let drops = Arc::new(AtomicUsize::new(0));
        let spawned = Rc::new(RefCell::new(None));
        runtime::block_on({
            let (released_on, drops, spawned) =
                (released_on.clone(), drops.clone(), spawned.clone());
            async move {
                let held = Counted(drops);
                let probe = runtime::__loom::Probe::new(move || {
                    let _held = held;
                    *released_on.lock().unwrap() = Some(thread::current().id());
                });
                *spawned.borrow_mut() = Some(thread::spawn(move || drop(probe)));
            }
        });
        spawned.borrow_mut().take().unwrap().join().unwrap();
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        let released_on = *released_on.lock().unwrap();
        if let Some(on) = released_on {
            assert_eq!(on, loop_thread);
        }
    });
}

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

/// The wake races the loop going to sleep: however they interleave, the loop
/// must wake up and finish (a lost wakeup is a deadlock, which loom reports).
#[test]
fn cross_thread_wake_vs_park() {
    loom::model(|| {
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

/// The same race for the main future, whose waker takes its own path.
#[test]
fn cross_thread_wake_of_the_main_future_vs_park() {
    loom::model(|| {
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

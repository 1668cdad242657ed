//! The sync shim: every atomic, lock and thread-local that crosses threads in
//! this crate comes from here.
//!
//! In a normal build these are the `std` types. Built with
//! `RUSTFLAGS="--cfg loom"`, they are the model checker's look-alikes from
//! the `loom` crate, which explores every interleaving of the operations it
//! sees. Going through one module means the code loom checks is the code that
//! ships (see `tests/loom.rs` in this crate).
//!
//! A task's reference count is in its state word, an atomic from here, so
//! loom sees every reference a waker takes or gives back (see `task.rs`).
//! The `Arc`s around the loop's shared half and a gather's child wakers
//! stay `std` (futures-task's `ArcWake` builds wakers from `std::sync::Arc`):
//! loom cannot see those counts, and no decision rests on them.

#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{AtomicBool, AtomicUsize, Ordering},
    Mutex, MutexGuard,
};
#[cfg(not(loom))]
pub(crate) use std::{sync::Condvar, thread, thread_local};

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{AtomicBool, AtomicUsize, Ordering},
    Mutex, MutexGuard,
};
#[cfg(loom)]
pub(crate) use loom::{sync::Condvar, thread, thread_local};

/// Locks `mutex`, ignoring poisoning. Our critical sections are short pushes
/// and pops that cannot leave the data half-changed, and a user's panic is
/// caught well away from them, so a poisoned lock still holds good data.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Waits on `condvar` for at most `timeout`; returns the guard and whether
/// the wait timed out. `guard` must be the guard of `mutex`.
#[cfg(not(loom))]
pub(crate) fn wait_timeout<'a, T>(
    condvar: &Condvar,
    _mutex: &'a Mutex<T>,
    guard: MutexGuard<'a, T>,
    timeout: std::time::Duration,
) -> (MutexGuard<'a, T>, bool) {
    match condvar.wait_timeout(guard, timeout) {
        Ok((guard, result)) => (guard, result.timed_out()),
        Err(poisoned) => {
            let (guard, result) = poisoned.into_inner();
            (guard, result.timed_out())
        }
    }
}

/// loom has no clock, so a timed wait is modelled as its worst case: the
/// lock is let go, any other thread may run, and then the wait "times out".
/// That is exactly the moment a retiring pool thread races a new job.
#[cfg(loom)]
pub(crate) fn wait_timeout<'a, T>(
    _condvar: &Condvar,
    mutex: &'a Mutex<T>,
    guard: MutexGuard<'a, T>,
    _timeout: std::time::Duration,
) -> (MutexGuard<'a, T>, bool) {
    drop(guard);
    loom::thread::yield_now();
    (lock(mutex), true)
}

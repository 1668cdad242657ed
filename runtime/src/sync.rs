//! The sync shim: every atomic, lock and thread-local that crosses threads in
//! this crate comes from here.
//!
//! In a normal build these are the `std` types. Built with
//! `RUSTFLAGS="--cfg loom"`, they are the model checker's look-alikes from
//! the `loom` crate, which explores every interleaving of the operations it
//! sees. Going through one module means the code loom checks is the code that
//! ships (see `tests/loom.rs` in this crate).
//!
//! One thing stays `std` in both builds: the task's `Arc`, because
//! futures-task's `ArcWake` builds wakers from `std::sync::Arc`. loom cannot
//! see that reference count, so the task's own state word (an atomic from
//! here) is what carries every cross-thread decision; see `task.rs`.

#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{AtomicBool, AtomicUsize, Ordering},
    Mutex, MutexGuard,
};
#[cfg(not(loom))]
pub(crate) use std::thread_local;

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{AtomicBool, AtomicUsize, Ordering},
    Mutex, MutexGuard,
};
#[cfg(loom)]
pub(crate) use loom::thread_local;

#[cfg(loom)]
pub(crate) use loom::sync::Condvar;

/// Locks `mutex`, ignoring poisoning. Our critical sections are short pushes
/// and pops that cannot leave the data half-changed, and a user's panic is
/// caught well away from them, so a poisoned lock still holds good data.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

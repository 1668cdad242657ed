//! Containing panics from user code that the loop runs on its own behalf.
//!
//! A task's own poll is caught in `task.rs`: its panic becomes the task's
//! `JoinError`. But the loop also runs user code that belongs to no task
//! poll: it wakes wakers (a user's waker may panic in `wake`), and it drops
//! values nobody will take (the output of a detached task, the payload of a
//! panic nobody awaited, whose `Drop` may panic too). A panic there must not
//! unwind out of `block_on` through another task's turn: it is caught,
//! reported like an unretrieved task panic (on stderr, or where
//! `Builder::report_to` says), and the loop goes on.
//! tokio holds the same line.

use std::any::Any;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};

use crate::observe::report;

// ANCHOR: contain
/// Runs `f`; if it panics, reports the panic as coming from `what` and
/// returns normally.
pub(crate) fn contain(what: impl fmt::Display, f: impl FnOnce()) {
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(f)) {
        report(format_args!(
            "looplet: {what} panicked: {}; the loop goes on",
            message(payload.as_ref())
        ));
        drop_payload(payload);
    }
}

/// Drops `value` (a user's value nobody will take), containing a panic in
/// its `Drop`.
pub(crate) fn drop_contained<T>(what: impl fmt::Display, value: T) {
    contain(what, move || drop(value));
}

/// Drops a caught panic's payload. Its `Drop` is user code too, and may
/// panic; the payload of *that* panic is leaked rather than risk a third.
pub(crate) fn drop_payload(payload: Box<dyn Any + Send>) {
    if let Err(again) = panic::catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(again);
    }
}
// ANCHOR_END: contain

/// A panic's message, when it is a string (most are).
pub(crate) fn message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "a non-string payload"
    }
}

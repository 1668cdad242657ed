//! The user's side of a task: [`JoinHandle`], awaited for the task's output,
//! and [`JoinError`], what comes back instead when the task was cancelled or
//! panicked.
//!
//! In asyncio, `await task` gives the result or raises the task's exception
//! (or `CancelledError`). Here the handle gives `Result<T, JoinError>`.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::task::{Header, Join, TaskLabel};

/// An owned permission to await a spawned task's output, or cancel it.
///
/// Awaiting it gives `Ok(output)`, or a [`JoinError`] if the task panicked
/// or was cancelled. Dropping it *detaches* the task: the task keeps
/// running, and its output is dropped when it comes (unlike asyncio, where a
/// task nobody references may be garbage-collected, and unlike smol, where
/// dropping the handle cancels).
///
/// A `JoinHandle` belongs to the loop's thread, like the task: it is not
/// `Send`.
#[must_use = "dropping a JoinHandle detaches the task; `.await` it to get the output"]
pub struct JoinHandle<T> {
    task: Arc<dyn Join<T>>,
    /// `!Send` and `!Sync`: the output may be read only on the loop's thread.
    _not_send: PhantomData<*const ()>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(task: Arc<dyn Join<T>>) -> JoinHandle<T> {
        JoinHandle {
            task,
            _not_send: PhantomData,
        }
    }

    /// Cancels the task: Python's `task.cancel()`. Its future is dropped at
    /// its next turn on the loop (not inside this call), and awaiting the
    /// handle then gives a [`JoinError`] whose `is_cancelled()` is true. On a
    /// task that already finished this changes nothing: awaiting the handle
    /// gives the output.
    pub fn abort(&self) {
        self.task.clone().abort();
    }

    /// True once the task has finished, panicked or been cancelled, so
    /// awaiting the handle would not wait.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        crate::coop::budgeted(cx, |cx| self.task.poll_join(cx))
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        self.task.detach();
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("finished", &self.is_finished())
            .finish_non_exhaustive()
    }
}

/// Why awaiting a `JoinHandle` gave no value: the task was cancelled with
/// `abort` (or the loop ended first), or it panicked.
///
/// One pointer wide: the details are boxed, because every task keeps room
/// for `Result<Output, JoinError>` and most tasks never fail. (Boxing took
/// 64 bytes off every task; failing is rare enough to pay one allocation.)
pub struct JoinError(Box<Inner>);

struct Inner {
    task: TaskLabel,
    repr: Repr,
}

enum Repr {
    Cancelled,
    Panic {
        /// The panic's message, when it was a string (most are), copied out
        /// when the panic was caught so `Display` never reads the payload.
        message: Option<String>,
        payload: Payload,
    },
}

/// A caught panic's payload, `Box<dyn Any + Send>`, which is not `Sync`.
struct Payload(Box<dyn Any + Send + 'static>);

// SAFETY: a `Payload` is never read through a shared reference: the only
// access is `JoinError::into_panic`, which takes the error by value. With no
// `&Payload` access, sharing one between threads cannot race. That lets
// `JoinError` be `Sync`, as `std::error::Error` users (`Box<dyn Error + Send
// + Sync>`) expect.
unsafe impl Sync for Payload {}

impl JoinError {
    pub(crate) fn cancelled(task: &Header) -> JoinError {
        JoinError(Box::new(Inner {
            task: task.describe(),
            repr: Repr::Cancelled,
        }))
    }

    pub(crate) fn panic(task: &Header, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        let message = if let Some(s) = payload.downcast_ref::<&'static str>() {
            Some((*s).to_string())
        } else {
            payload.downcast_ref::<String>().cloned()
        };
        JoinError(Box::new(Inner {
            task: task.describe(),
            repr: Repr::Panic {
                message,
                payload: Payload(payload),
            },
        }))
    }

    /// True if the task was cancelled by `JoinHandle::abort` or by the end
    /// of its loop.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.0.repr, Repr::Cancelled)
    }

    /// True if the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.0.repr, Repr::Panic { .. })
    }

    /// The value the task panicked with, to inspect it or to resume the
    /// panic with `std::panic::resume_unwind`.
    ///
    /// # Panics
    ///
    /// If the task was cancelled rather than panicking; check
    /// [`JoinError::is_panic`] first.
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        let inner = *self.0;
        match inner.repr {
            Repr::Panic { payload, .. } => payload.0,
            Repr::Cancelled => panic!(
                "JoinError::into_panic called on a cancelled task ({}); \
                 check is_panic() first",
                inner.task
            ),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let task = &self.0.task;
        match &self.0.repr {
            Repr::Cancelled => write!(f, "{task} was cancelled"),
            Repr::Panic {
                message: Some(message),
                ..
            } => write!(f, "{task} panicked: {message}"),
            Repr::Panic { message: None, .. } => {
                write!(f, "{task} panicked (with a non-string value)")
            }
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let task = &self.0.task;
        match &self.0.repr {
            Repr::Cancelled => write!(f, "JoinError::Cancelled({task})"),
            Repr::Panic { message, .. } => {
                write!(f, "JoinError::Panic({task}, {message:?})")
            }
        }
    }
}

impl std::error::Error for JoinError {}

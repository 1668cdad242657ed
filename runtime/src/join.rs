//! The user's side of a task: [`JoinHandle`], awaited for the task's output,
//! or for a [`JoinError`](crate::JoinError) (in `error.rs`) when the task was
//! cancelled or panicked.
//!
//! In asyncio, `await task` gives the result or raises the task's exception
//! (or `CancelledError`). Here the handle gives `Result<T, JoinError>`.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::error::JoinError;
use crate::task::JoinRef;

/// An owned permission to await a spawned task's output, or cancel it.
///
/// Awaiting it gives `Ok(output)`, or a [`JoinError`] if the task panicked
/// or was cancelled. Dropping it *detaches* the task: the task keeps
/// running, and its output is dropped when it comes (unlike asyncio, where a
/// task nobody references may be garbage-collected, and unlike smol, where
/// dropping the handle cancels).
///
/// Awaiting a handle is cancel-safe: a `.await` dropped midway (by
/// `timeout` or `race`) leaves the handle's task running and its output
/// waiting, and the handle can be awaited again. Dropping the handle itself
/// detaches the task; to stop it, call [`JoinHandle::abort`].
///
/// A `JoinHandle` belongs to the loop's thread, like the task: it is not
/// `Send`.
#[must_use = "dropping a JoinHandle detaches the task; `.await` it to get the output"]
pub struct JoinHandle<T> {
    task: JoinRef<T>,
    /// `!Send` and `!Sync`: the output may be read only on the loop's thread.
    _not_send: PhantomData<*const ()>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(task: JoinRef<T>) -> JoinHandle<T> {
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
        self.task.abort();
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

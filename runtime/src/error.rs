//! Task errors: [`JoinError`], what awaiting a `JoinHandle` gives instead of
//! the output when the task was cancelled or panicked, and the label that
//! names a task in it. Below `task.rs` and `join.rs`, which both use it
//! (tokio keeps its task errors in the same place: `task/error.rs`).
//!
//! In asyncio, `await task` raises the task's exception (or
//! `CancelledError`). Here the handle gives `Result<T, JoinError>`.

use std::any::Any;
use std::fmt;
use std::panic::Location;
use std::sync::Arc;

/// How every message names a task, in one printed form:
/// `task #7 "producer" (spawned at src/main.rs:12:5)`, or without the name
/// for a task that has none. Used by `JoinError`, slow-poll warnings, the
/// watchdog, the report of a panic nobody awaited and `TaskInfo`. A copy,
/// so a message can name a task without keeping it alive.
#[derive(Clone, Debug)]
pub(crate) struct TaskLabel {
    id: u64,
    spawned_at: &'static Location<'static>,
    name: Option<Arc<str>>,
}

impl TaskLabel {
    pub(crate) fn new(
        id: u64,
        spawned_at: &'static Location<'static>,
        name: Option<Arc<str>>,
    ) -> TaskLabel {
        TaskLabel {
            id,
            spawned_at,
            name,
        }
    }
}

impl TaskLabel {
    /// The task's id.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The name given to `spawn_named`, if any.
    pub(crate) fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl fmt::Display for TaskLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task #{}", self.id)?;
        if let Some(name) = &self.name {
            write!(f, " {name:?}")?;
        }
        write!(f, " (spawned at {})", self.spawned_at)
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
    pub(crate) fn cancelled(task: TaskLabel) -> JoinError {
        JoinError(Box::new(Inner {
            task,
            repr: Repr::Cancelled,
        }))
    }

    pub(crate) fn panic(task: TaskLabel, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        let message = if let Some(s) = payload.downcast_ref::<&'static str>() {
            Some((*s).to_string())
        } else {
            payload.downcast_ref::<String>().cloned()
        };
        JoinError(Box::new(Inner {
            task,
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

    /// The panic's message, for reports; `None` for a cancellation or a
    /// panic with a non-string value.
    pub(crate) fn panic_message(&self) -> Option<&str> {
        match &self.0.repr {
            Repr::Panic { message, .. } => message.as_deref(),
            Repr::Cancelled => None,
        }
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

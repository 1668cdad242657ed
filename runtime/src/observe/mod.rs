//! Seeing inside the loop, from beside it: what each task waits on
//! (`tasks()`), task names, slow-poll warnings and the watchdog, the trace,
//! and where all their reports go.
//!
//! The core (tasks, queues, the loop, gather, the reactor) is written as
//! protocol only. It reaches this folder through a handful of named hooks
//! that take plain values, the way tokio's scheduler calls its task hooks.
//!
//! They are listed just below, with what each takes (the book's chapter
//! "Seeing inside the loop" shows the list).
//!
//! With nothing switched on, the hooks are a few stores each (no lock, no
//! allocation), and the trace's checks are one flag per phase of the loop.
//!
//! - `inspect.rs`: wait records, names, and `tasks()`;
//! - `observer.rs`: what one loop observes of each poll (the trace line,
//!   the slow-poll timing);
//! - `slow_polls.rs`: the slow-poll warning and the watchdog thread;
//! - `trace.rs`: `LOOPLET_TRACE`, and why each task was queued;
//! - `report.rs`: the destination of every report (stderr by default).

// ANCHOR: hooks
// The hooks the core calls, and what they take:
//   poll_started(&polls)             task.rs, before each poll of a task
//   poll_pending(&waiting_on)        task.rs, after a poll returned Pending
//   task_finished(task id)           task.rs, when a task completes
//   waiting_on(WaitRecord)           leaf futures, just before Pending
//   note_queued(task id, Queued)     executor.rs, after a phase, tracing only
//   Observer::poll(label, poll)      executor.rs, around each poll
//   report(line)                     the loop and contain.rs
//   unretrieved_panic(task, message) task.rs, a panic nobody will await
// ANCHOR_END: hooks

mod inspect;
mod observer;
mod report;
mod slow_polls;
mod trace;

#[cfg(not(loom))]
pub(crate) use inspect::Recording;
pub use inspect::TaskInfo;
pub(crate) use inspect::{
    name_of, poll_pending, poll_started, set_name, task_finished, task_infos, waiting_on,
    TaskSnapshot, WaitRecord,
};
pub(crate) use observer::Observer;
pub(crate) use report::{report, reporting_to, unretrieved_panic, ReportingTo, Sink};
pub(crate) use slow_polls::Polled;
pub(crate) use trace::{describe_turn, note_queued, trace, tracing, Queued};

#[doc(hidden)]
pub use inspect::ChildRecords;

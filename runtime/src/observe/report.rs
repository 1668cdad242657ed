//! Where the loop's reports go: slow polls, the watchdog, panics nobody
//! awaited or that the loop caught, and the trace. Standard error, unless
//! the program chose a place with `Builder::report_to` (a log, a test's
//! buffer).
//!
//! The loop makes its destination current for as long as it runs (the
//! watchdog thread keeps a copy of its own), so code deep in the loop
//! reports with [`report`] and needs no handle.

use std::cell::RefCell;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use crate::error::TaskLabel;

/// The program's own destination: called once per line, without the newline.
pub(crate) type ReportFn = dyn Fn(&str) + Send + Sync;

/// A destination for report lines: the program's, or (`None`) stderr.
#[derive(Clone, Default)]
pub(crate) struct Sink(Option<Arc<ReportFn>>);

impl Sink {
    /// Lines go to `to`.
    pub(crate) fn to(to: Arc<ReportFn>) -> Sink {
        Sink(Some(to))
    }

    /// Sends one line. The program's destination is user code: if it
    /// panics, the line goes to standard error instead, and the loop goes on.
    pub(crate) fn send(&self, line: fmt::Arguments<'_>) {
        let Some(to) = &self.0 else {
            eprintln!("{line}");
            return;
        };
        let text = line.to_string();
        if panic::catch_unwind(AssertUnwindSafe(|| to(&text))).is_err() {
            eprintln!("{text}");
        }
    }
}

impl fmt::Debug for Sink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Sink(program's)"
        } else {
            "Sink(stderr)"
        })
    }
}

std::thread_local! {
    /// The destination of the loop running on this thread.
    static CURRENT: RefCell<Sink> = RefCell::new(Sink::default());
}

/// Sends one line to the destination of the loop running on this thread
/// (standard error outside a loop).
pub(crate) fn report(line: fmt::Arguments<'_>) {
    let sink = CURRENT
        .try_with(|current| current.borrow().clone())
        .unwrap_or_default();
    sink.send(line);
}

/// asyncio's "Task exception was never retrieved": `task` panicked (with
/// `message`, when it was a string) and nobody holds its `JoinHandle`.
pub(crate) fn unretrieved_panic(task: TaskLabel, message: Option<&str>) {
    report(format_args!(
        "looplet: {task} panicked and nobody awaited its JoinHandle: {}",
        message.unwrap_or("(a panic with a non-string value)")
    ));
}

/// Makes `sink` this thread's destination until the guard is dropped.
pub(crate) fn reporting_to(sink: &Sink) -> ReportingTo {
    let previous = CURRENT.with(|current| current.replace(sink.clone()));
    ReportingTo { previous }
}

/// Puts the previous destination back when dropped.
pub(crate) struct ReportingTo {
    previous: Sink,
}

impl Drop for ReportingTo {
    fn drop(&mut self) {
        let previous = std::mem::take(&mut self.previous);
        let _ = CURRENT.try_with(|current| current.replace(previous));
    }
}

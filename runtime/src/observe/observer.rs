//! What one loop observes of each poll: the trace's "poll task #3 (woken by
//! a timer)" line and, in debug mode, the slow-poll timing and its watchdog.
//!
//! The loop asks [`Observer::wants_labels`] before each poll: only when the
//! trace or debug mode is on does it build the task's label (a name lookup),
//! and with both off [`Observer::poll`] is the poll and nothing else.

use std::cell::RefCell;
use std::time::Duration;

use super::report::Sink;
use super::slow_polls::{env_threshold, Polled, SlowPolls};
use super::trace::{trace, tracing, why_queued};

/// One loop's observation of its polls.
pub(crate) struct Observer {
    /// Debug mode: the slow-poll threshold and its watchdog, if set.
    slow_polls: Option<RefCell<SlowPolls>>,
}

impl Observer {
    /// For a loop with `threshold` (or `LOOPLET_DEBUG`'s), reporting to
    /// `reports`.
    pub(crate) fn new(threshold: Option<Duration>, reports: &Sink) -> Observer {
        Observer {
            slow_polls: threshold
                .or_else(env_threshold)
                .map(|threshold| RefCell::new(SlowPolls::new(threshold, reports.clone()))),
        }
    }

    /// Does a poll need its label, for the trace or a slow-poll warning?
    #[inline]
    pub(crate) fn wants_labels(&self) -> bool {
        self.slow_polls.is_some() || tracing()
    }

    // ANCHOR: poll
    /// Runs one poll of `polled` (given when `wants_labels`): traced, and
    /// timed in debug mode.
    #[inline]
    pub(crate) fn poll<R>(&self, polled: Option<Polled>, poll: impl FnOnce() -> R) -> R {
        let Some(polled) = polled else {
            return poll();
        };
        if tracing() {
            match &polled {
                Polled::Task(label) => trace!("poll {label} ({})", why_queued(label.id())),
                Polled::Main { .. } => trace!("poll the main future"),
            }
        }
        match &self.slow_polls {
            None => poll(),
            Some(slow) => slow.borrow_mut().timed(polled, poll),
        }
    }
    // ANCHOR_END: poll
}

//! Debug mode: the slow-poll warning and the watchdog.
//!
//! asyncio's debug mode (`PYTHONASYNCIODEBUG=1`) logs "Executing <Task ...>
//! took 0.123 seconds" when one step of a coroutine blocks the loop. looplet
//! does the same, and one thing more: it says so *while* the poll is still
//! running, so a loop stuck right now names the task that holds it.
//!
//! - **Slow polls.** With a threshold set (`Builder::slow_poll_threshold`,
//!   or `LOOPLET_DEBUG=1` for 100 ms), the loop reads the clock around each
//!   poll and prints one line for a poll that took longer.
//! - **The watchdog.** A thread that exists only while a threshold is set.
//!   Before each poll the loop writes *which* task it is about to poll and
//!   *when* into a small shared slot (a mutex no one else contends); the
//!   watchdog wakes every quarter threshold, and if the same poll is still
//!   in the slot past the threshold, it prints that, once. No signals, no
//!   stack walking: the loop announced what it was doing before it did it.
//!
//! With no threshold, none of this runs: the loop checks one `Option` per
//! poll.

use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::report::Sink;
use crate::error::TaskLabel;

/// The threshold `LOOPLET_DEBUG=1` turns on when none was set.
pub(crate) fn env_threshold() -> Option<Duration> {
    super::trace::env_flag("LOOPLET_DEBUG").then_some(Duration::from_millis(100))
}

/// Who is being polled: a task, or the future given to `block_on`.
#[derive(Clone, Debug)]
pub(crate) enum Polled {
    Task(TaskLabel),
    Main {
        block_on_at: Option<&'static Location<'static>>,
    },
}

impl fmt::Display for Polled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Polled::Task(label) => label.fmt(f),
            Polled::Main {
                block_on_at: Some(at),
            } => write!(f, "the main future (block_on at {at})"),
            Polled::Main { block_on_at: None } => write!(f, "the main future"),
        }
    }
}

/// The poll in progress, as the watchdog sees it.
struct Current {
    /// Which poll this is; the watchdog reports each at most once.
    seq: u64,
    started: Instant,
    polled: Polled,
}

/// What a loop with a threshold keeps: the threshold and its watchdog.
pub(crate) struct SlowPolls {
    threshold: Duration,
    watched: Arc<Watched>,
    sink: Sink,
    watchdog: Option<JoinHandle<()>>,
    seq: u64,
}

struct Watched {
    current: Mutex<Option<Current>>,
    stop: AtomicBool,
}

impl Watched {
    /// The poll in progress. A std mutex, not the loom shim's: the watchdog
    /// is an ordinary thread that no model checks. Poisoning is ignored: the
    /// slot is one `Option` that no panic can leave half-written.
    fn current(&self) -> std::sync::MutexGuard<'_, Option<Current>> {
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl SlowPolls {
    /// Starts the watchdog thread for `threshold`.
    pub(crate) fn new(threshold: Duration, sink: Sink) -> SlowPolls {
        let watched = Arc::new(Watched {
            current: Mutex::new(None),
            stop: AtomicBool::new(false),
        });
        let watchdog = std::thread::Builder::new()
            .name("looplet-watchdog".into())
            .spawn({
                let (watched, sink) = (watched.clone(), sink.clone());
                move || watch(&watched, threshold, &sink)
            })
            .ok(); // no watchdog thread: slow polls are still reported after
        SlowPolls {
            threshold,
            watched,
            sink,
            watchdog,
            seq: 0,
        }
    }

    // ANCHOR: timed
    /// Runs one poll, `poll`, of `polled`: announces it to the watchdog,
    /// times it, and reports it if it took longer than the threshold.
    pub(crate) fn timed<R>(&mut self, polled: Polled, poll: impl FnOnce() -> R) -> R {
        self.seq += 1;
        let started = Instant::now();
        *self.watched.current() = Some(Current {
            seq: self.seq,
            started,
            polled: polled.clone(),
        });
        let result = poll();
        let took = started.elapsed();
        *self.watched.current() = None;
        if took > self.threshold {
            self.sink.send(format_args!(
                "looplet: {polled} took {:.3} s in one poll (slow_poll_threshold {:.3} s): \
                 it blocked the loop; move blocking work to runtime::spawn_blocking",
                took.as_secs_f64(),
                self.threshold.as_secs_f64()
            ));
        }
        result
    }
    // ANCHOR_END: timed
}

impl Drop for SlowPolls {
    fn drop(&mut self) {
        self.watched.stop.store(true, Ordering::Relaxed);
        if let Some(watchdog) = self.watchdog.take() {
            watchdog.thread().unpark();
            let _ = watchdog.join();
        }
    }
}

// ANCHOR: watch
/// The watchdog thread: every quarter threshold, look at the poll in
/// progress; if it has run past the threshold and was not reported yet,
/// report it now, while it still blocks the loop.
fn watch(watched: &Watched, threshold: Duration, sink: &Sink) {
    let interval = (threshold / 4).clamp(Duration::from_millis(1), Duration::from_millis(250));
    let mut reported = 0;
    while !watched.stop.load(Ordering::Relaxed) {
        std::thread::park_timeout(interval);
        let current = watched.current();
        if let Some(c) = current.as_ref() {
            let running = c.started.elapsed();
            if running > threshold && c.seq != reported {
                reported = c.seq;
                sink.send(format_args!(
                    "looplet watchdog: {} has been running for {:.3} s in one poll and has not \
                     returned: the loop is blocked right now",
                    c.polled,
                    running.as_secs_f64()
                ));
            }
        }
    }
}
// ANCHOR_END: watch

//! Debug mode: the slow-poll warning, the watchdog, and the loop's trace.
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
//! - **The trace** (`LOOPLET_TRACE=1`): one line per event of each turn,
//!   which task ran and why, the poll timeout chosen, what came back. For
//!   readers of the book; off by default, and then it costs one branch.
//!
//! With no threshold and no trace, none of this runs: the loop checks one
//! `Option` per poll.

use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Is `LOOPLET_TRACE` on? Read once per process.
/// Checked on every poll and every wake, so it is one relaxed load:
/// 0 = not read yet, 1 = off, 2 = on.
#[inline]
pub(crate) fn tracing() -> bool {
    match TRACING.load(Ordering::Relaxed) {
        0 => read_tracing(),
        state => state == 2,
    }
}

static TRACING: AtomicU8 = AtomicU8::new(0);

/// The first look at `LOOPLET_TRACE`, kept out of line so that `tracing`
/// inlines to a load and a compare.
#[cold]
#[inline(never)]
fn read_tracing() -> bool {
    let on = env_flag("LOOPLET_TRACE");
    TRACING.store(if on { 2 } else { 1 }, Ordering::Relaxed);
    on
}

/// The threshold `LOOPLET_DEBUG=1` turns on when none was set.
pub(crate) fn env_threshold() -> Option<Duration> {
    env_flag("LOOPLET_DEBUG").then_some(Duration::from_millis(100))
}

fn env_flag(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0")
}

/// One line of the loop's trace, on stderr, when `LOOPLET_TRACE` is on.
macro_rules! trace {
    ($($arg:tt)*) => {
        if $crate::debug::tracing() {
            eprintln!("[looplet] {}", format_args!($($arg)*));
        }
    };
}
pub(crate) use trace;

/// Why a task was put in the run queue, as the trace tells it. The loop
/// knows: it notes the reason right after the phase that queued the task
/// (spawning, a task's poll, the reactor's socket or timer wakes, taking in
/// wakes from other threads), and only while tracing is on. Nothing about it
/// lives in the task or the reactor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Queued {
    Spawned,
    ByTask,
    BySocket,
    ByTimer,
    FromThread,
}

impl Queued {
    fn words(self) -> &'static str {
        match self {
            Queued::Spawned => "just spawned",
            Queued::ByTask => "woken on the loop's thread, by another task or itself",
            Queued::BySocket => "woken by socket readiness",
            Queued::ByTimer => "woken by a timer",
            Queued::FromThread => "woken from another thread",
        }
    }
}

std::thread_local! {
    /// Why each queued task is queued (tracing only), by task id.
    static QUEUED: std::cell::RefCell<std::collections::HashMap<u64, Queued>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// Notes why task `id` was just queued. The first reason stands until the
/// task is polled (a queued task is not queued twice).
pub(crate) fn note_queued(id: u64, why: Queued) {
    let _ = QUEUED.try_with(|q| {
        q.borrow_mut().entry(id).or_insert(why);
    });
}

/// Why task `id` is being polled, in words; forgets the reason.
pub(crate) fn why_queued(id: u64) -> &'static str {
    QUEUED
        .try_with(|q| q.borrow_mut().remove(&id))
        .ok()
        .flatten()
        .map_or("woken", Queued::words)
}

/// Who is being polled: a task, or the future given to `block_on`.
#[derive(Clone, Debug)]
pub(crate) enum Polled {
    Task {
        id: u64,
        name: Option<Arc<str>>,
        spawned_at: &'static Location<'static>,
    },
    Main {
        block_on_at: Option<&'static Location<'static>>,
    },
}

impl fmt::Display for Polled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Polled::Task {
                id,
                name: Some(name),
                spawned_at,
            } => write!(f, "task #{id} {name:?} (spawned at {spawned_at})"),
            Polled::Task {
                id,
                name: None,
                spawned_at,
            } => write!(f, "task #{id} (spawned at {spawned_at})"),
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
    shared: Arc<Shared>,
    watchdog: Option<JoinHandle<()>>,
    seq: u64,
}

struct Shared {
    current: Mutex<Option<Current>>,
    stop: AtomicBool,
}

impl SlowPolls {
    /// Starts the watchdog thread for `threshold`.
    pub(crate) fn new(threshold: Duration) -> SlowPolls {
        let shared = Arc::new(Shared {
            current: Mutex::new(None),
            stop: AtomicBool::new(false),
        });
        let watchdog = std::thread::Builder::new()
            .name("looplet-watchdog".into())
            .spawn({
                let shared = shared.clone();
                move || watch(&shared, threshold)
            })
            .ok(); // no watchdog thread: slow polls are still reported after
        SlowPolls {
            threshold,
            shared,
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
        *lock(&self.shared.current) = Some(Current {
            seq: self.seq,
            started,
            polled: polled.clone(),
        });
        let result = poll();
        let took = started.elapsed();
        *lock(&self.shared.current) = None;
        if took > self.threshold {
            eprintln!(
                "looplet: {polled} took {:.3} s in one poll (slow_poll_threshold {:.3} s): \
                 it blocked the loop; move blocking work to runtime::spawn_blocking",
                took.as_secs_f64(),
                self.threshold.as_secs_f64()
            );
        }
        result
    }
    // ANCHOR_END: timed
}

impl Drop for SlowPolls {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
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
fn watch(shared: &Shared, threshold: Duration) {
    let interval = (threshold / 4).clamp(Duration::from_millis(1), Duration::from_millis(250));
    let mut reported = 0;
    while !shared.stop.load(Ordering::Relaxed) {
        std::thread::park_timeout(interval);
        let current = lock(&shared.current);
        if let Some(c) = current.as_ref() {
            let running = c.started.elapsed();
            if running > threshold && c.seq != reported {
                reported = c.seq;
                eprintln!(
                    "looplet watchdog: {} has been running for {:.3} s in one poll and has not \
                     returned: the loop is blocked right now",
                    c.polled,
                    running.as_secs_f64()
                );
            }
        }
    }
}
// ANCHOR_END: watch

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One turn of the reactor in words, for the trace.
pub(crate) fn describe_turn(turn: &reactor::Turn) -> String {
    let waited = match turn.timeout {
        None => "no timeout (nothing is due)".to_string(),
        Some(t) if t.is_zero() => "a zero timeout".to_string(),
        Some(t) => format!("a timeout of {:.3} s (the nearest timer)", t.as_secs_f64()),
    };
    let mut what = vec![format!(
        "{} socket event(s), {} timer(s) fired",
        turn.io_events, turn.timers_fired
    )];
    if turn.interrupted {
        what.push("woken by another thread".into());
    }
    format!("the OS poll, with {waited}, returned: {}", what.join(", "))
}

//! The loop's trace (`LOOPLET_TRACE=1`): one line per event of each turn,
//! which task ran and why, the poll timeout chosen, what came back. For
//! readers of the book; off by default, and then it costs one check of a
//! flag per phase of the loop, and nothing at all per wake.

use std::sync::atomic::{AtomicU8, Ordering};

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

pub(super) fn env_flag(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0")
}

/// One line of the loop's trace, when `LOOPLET_TRACE` is on.
macro_rules! trace {
    ($($arg:tt)*) => {
        if $crate::observe::tracing() {
            $crate::observe::report(format_args!("[looplet] {}", format_args!($($arg)*)));
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
    let bed = if turn.parked {
        "the park (no socket to watch)"
    } else {
        "the OS poll"
    };
    format!("{bed}, with {waited}, returned: {}", what.join(", "))
}

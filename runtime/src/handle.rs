//! A loop as a socket or a timer holds it: the [`LoopHandle`], which is
//! `Send + Sync`.
//!
//! Tasks never leave their loop's thread, which is why they need not be
//! `Send`. The things tasks use are another matter. A connection pool
//! (hyper-util's), or any library written for tokio's many threads, asks
//! its sockets and timers to be `Send`, because on a work-stealing runtime
//! they may move between threads. tokio's are `Send + Sync` even on its
//! one-thread runtime, so looplet's are too. What keeps that safe is the
//! loop's own rule, checked here:
//!
//! - a handle is **used** only on its loop's thread, while that loop runs.
//!   Anywhere else [`LoopHandle::with_reactor`] answers `None`, and the
//!   socket gives an error (a timer panics) saying what to do instead;
//! - a handle may be **dropped** anywhere. On its loop's thread it frees its
//!   reactor entry at once. Anywhere else it hands a `Release` to the loop
//!   through the injection queue (`queue.rs`), and the loop runs it in its
//!   next turn, on its own thread.
//!
//! The same-thread path costs what it did before: a thread-local read and a
//! pointer compare, no lock and no atomic read-modify-write. The `Arc` is
//! cloned once, when the handle is made.

use std::sync::Arc;
use std::task::Waker;

use crate::executor::{current_shared, with_reactor_of};
#[cfg(loom)]
use crate::park::Reactor;
use crate::queue::Shared;
#[cfg(not(loom))]
use reactor::Reactor;

/// The loop a socket or timer belongs to.
#[derive(Clone)]
pub(crate) struct LoopHandle(Arc<Shared>);

#[cfg_attr(loom, allow(dead_code))] // net and time are not built under loom
impl LoopHandle {
    /// The loop running on this thread; panics naming `what` if none is.
    #[track_caller]
    pub(crate) fn current(what: &str) -> LoopHandle {
        LoopHandle(current_shared(what))
    }

    /// Calls `f` with the loop's reactor: `None` unless this loop is the
    /// one running on this thread (and not busy turning its reactor).
    #[inline]
    pub(crate) fn with_reactor<R>(&self, f: impl FnOnce(&mut Reactor) -> R) -> Option<R> {
        with_reactor_of(&self.0, f)
    }

    /// Is this the thread that made the loop? Only there may a handle touch
    /// its thread-bound parts (a socket's `Cell`s, say).
    #[inline]
    pub(crate) fn on_its_thread(&self) -> bool {
        self.0.on_loop_thread()
    }

    // ANCHOR: release
    /// Frees the handle's entry in the reactor with `job`: right now, on
    /// the loop's thread while it runs; otherwise through the injection
    /// queue, for the loop's next turn (or not at all, if the loop has
    /// ended: its reactor is gone). The wakers `job` takes out are dropped
    /// after the reactor is free again.
    pub(crate) fn release<J>(&self, job: J)
    where
        J: FnOnce(&mut Reactor) -> [Option<Waker>; 2] + Send + 'static,
    {
        let mut job = Some(job);
        let _wakers = self.with_reactor(|reactor| job.take().map(|job| job(reactor)));
        if let Some(job) = job {
            self.0.push_release(Box::new(job));
        }
    }
    // ANCHOR_END: release

    /// Has the loop ended (so its reactor, and every entry in it, is gone)?
    pub(crate) fn has_ended(&self) -> bool {
        self.0.is_closed()
    }

    /// Why [`LoopHandle::with_reactor`] said no, for an error message:
    /// `thing` is what the user holds ("this TcpStream").
    pub(crate) fn not_here(&self, thing: &str) -> String {
        if self.0.is_closed() {
            format!(
                "{thing} belongs to an event loop that has ended; \
                 make a new one inside the loop that uses it"
            )
        } else {
            format!(
                "{thing} belongs to an event loop that is not running on this thread; \
                 use it only inside that loop (its block_on, or a task spawned there), \
                 or make a new one in this thread's loop"
            )
        }
    }
}

impl std::fmt::Debug for LoopHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoopHandle")
    }
}

/// For the loom model of the hand-back: a handle whose release sets a flag
/// and wakes a waker, so the model can see when (and on which thread) the
/// loop ran it.
#[cfg(loom)]
pub struct Probe {
    handle: LoopHandle,
    on_release: Option<Box<dyn FnOnce() + Send>>,
}

#[cfg(loom)]
impl Probe {
    /// A probe on the current loop; `on_release` runs when the loop
    /// releases it.
    pub fn new(on_release: impl FnOnce() + Send + 'static) -> Probe {
        Probe {
            handle: LoopHandle::current("Probe::new"),
            on_release: Some(Box::new(on_release)),
        }
    }
}

#[cfg(loom)]
impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Probe")
    }
}

#[cfg(loom)]
impl Drop for Probe {
    fn drop(&mut self) {
        let on_release = self.on_release.take();
        self.handle.release(move |_reactor| {
            if let Some(f) = on_release {
                f();
            }
            [None, None]
        });
    }
}

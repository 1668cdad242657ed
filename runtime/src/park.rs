//! Parking under the model checker: a stand-in for the reactor that loom
//! can see. Built only with `--cfg loom`.
//!
//! In a normal build the loop sleeps inside the reactor's poll (epoll or
//! kqueue), so one sleep waits for sockets, timers and cross-thread wakes at
//! once, and `executor.rs` and `queue.rs` use `reactor::Reactor` and
//! `reactor::Interrupter` directly. loom cannot see inside a syscall, so
//! here parking is a condition variable with a sticky "notified" flag (the
//! reactor's eventfd is sticky too), behind the same names and methods.
//! Everything that calls them (queues, tasks, the loop itself) is the same
//! code in both builds.

use std::io;
use std::task::Waker;
use std::time::Duration;

use reactor::Turn;

use crate::shim::{lock, Condvar, Mutex};
use loom::sync::Arc;

/// A condvar and a sticky "notified" flag, like the reactor's eventfd.
#[derive(Debug)]
struct Inner {
    notified: Mutex<bool>,
    condvar: Condvar,
}

/// The loop's place to sleep, in place of `reactor::Reactor`.
#[derive(Debug)]
pub(crate) struct Reactor(Arc<Inner>);

/// Wakes a parked [`Reactor`] from any thread, in place of
/// `reactor::Interrupter`.
#[derive(Debug)]
pub(crate) struct Interrupter(Arc<Inner>);

impl Reactor {
    pub(crate) fn new() -> io::Result<Reactor> {
        Ok(Reactor(Arc::new(Inner {
            notified: Mutex::new(false),
            condvar: Condvar::new(),
        })))
    }

    pub(crate) fn interrupter(&self) -> Interrupter {
        Interrupter(self.0.clone())
    }

    /// loom has no clock: any timeout other than zero waits for a notify.
    /// No sockets or timers either, so nothing is added to `_woken`.
    pub(crate) fn turn(
        &mut self,
        timeout: Option<Duration>,
        _woken: &mut Vec<Waker>,
    ) -> io::Result<Turn> {
        let mut notified = lock(&self.0.notified);
        while !*notified && timeout != Some(Duration::ZERO) {
            notified = self.0.condvar.wait(notified).unwrap();
        }
        let interrupted = std::mem::replace(&mut *notified, false);
        Ok(Turn {
            events: interrupted as usize,
            interrupted,
            timeout,
            io_events: 0,
            timers_fired: 0,
            socket_wakers: 0,
        })
    }
}

impl Interrupter {
    pub(crate) fn interrupt(&self) {
        *lock(&self.0.notified) = true;
        self.0.condvar.notify_one();
    }
}

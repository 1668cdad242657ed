//! Parking under the model checker: a stand-in for the reactor that loom
//! can see. Built only with `--cfg loom`.
//!
//! In a normal build the loop sleeps inside the reactor's poll (epoll or
//! kqueue) when it watches sockets, so one sleep waits for sockets, timers
//! and cross-thread wakes at once, or on its thread's park token when it
//! watches none; `executor.rs` and `queue.rs` use `reactor::Reactor` and
//! `reactor::Interrupter` directly. loom cannot see inside a syscall, so
//! here each bed is a sticky "rung" flag under a condition variable (the
//! eventfd and the park token are sticky too), behind the same names and
//! methods. The two flags are separate, so a waker that rings the wrong
//! bell leaves the loop asleep, and loom reports the deadlock. A model
//! picks the bed with [`sleep_in_poll`]. Everything that calls them
//! (queues, tasks, the loop itself) is the same code in both builds.

use std::io;
use std::task::Waker;
use std::time::Duration;

use reactor::Turn;

use crate::shim::{lock, Condvar, Mutex};
use loom::sync::Arc;

std::thread_local! {
    /// Which bed a loop made on this thread sleeps in: the poll (true) or
    /// parked (false). A std thread-local, set by a model before its loop
    /// is made, on the thread that makes it.
    static IN_POLL: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

/// Makes the loops this thread makes from now on sleep in the poll (as
/// with a socket registered) or parked (as with none).
pub fn sleep_in_poll(yes: bool) {
    IN_POLL.with(|in_poll| in_poll.set(yes));
}

/// A condvar and two sticky bells: the poll's (the reactor's eventfd) and
/// the park token's.
#[derive(Debug)]
struct Inner {
    rung: Mutex<Bells>,
    condvar: Condvar,
}

#[derive(Debug, Default)]
struct Bells {
    poll: bool,
    park: bool,
}

/// The loop's place to sleep, in place of `reactor::Reactor`: its bells,
/// and which bed it uses.
#[derive(Debug)]
pub(crate) struct Reactor(Arc<Inner>, bool);

/// Wakes a parked [`Reactor`] from any thread, in place of
/// `reactor::Interrupter`.
#[derive(Debug)]
pub(crate) struct Interrupter(Arc<Inner>);

impl Reactor {
    pub(crate) fn new() -> io::Result<Reactor> {
        let inner = Arc::new(Inner {
            rung: Mutex::new(Bells::default()),
            condvar: Condvar::new(),
        });
        Ok(Reactor(inner, IN_POLL.with(std::cell::Cell::get)))
    }

    pub(crate) fn interrupter(&self) -> Interrupter {
        Interrupter(self.0.clone())
    }

    pub(crate) fn watches_sockets(&self) -> bool {
        self.1
    }

    /// loom has no clock: any timeout other than zero waits for the bell.
    /// No sockets or timers either, so nothing is added to `_woken`.
    pub(crate) fn turn(
        &mut self,
        timeout: Option<Duration>,
        _woken: &mut Vec<Waker>,
    ) -> io::Result<Turn> {
        let interrupted = self.sleep(timeout, |bells| &mut bells.poll);
        Ok(Turn {
            events: interrupted as usize,
            interrupted,
            timeout,
            ..Turn::default()
        })
    }

    /// `turn` or `park`, as the real reactor's `wait`.
    pub(crate) fn wait(
        &mut self,
        timeout: Option<Duration>,
        woken: &mut Vec<Waker>,
    ) -> io::Result<Turn> {
        if self.watches_sockets() {
            self.turn(timeout, woken)
        } else {
            Ok(self.park(timeout, woken))
        }
    }

    /// As `turn`, in the other bed.
    pub(crate) fn park(&mut self, timeout: Option<Duration>, _woken: &mut Vec<Waker>) -> Turn {
        self.sleep(timeout, |bells| &mut bells.park);
        Turn {
            timeout,
            parked: true,
            ..Turn::default()
        }
    }

    /// Waits until `bell` was rung (unless the timeout is zero), and
    /// silences it; true if it had rung.
    fn sleep(&self, timeout: Option<Duration>, bell: fn(&mut Bells) -> &mut bool) -> bool {
        let mut rung = lock(&self.0.rung);
        while !*bell(&mut rung) && timeout != Some(Duration::ZERO) {
            rung = self.0.condvar.wait(rung).unwrap();
        }
        std::mem::replace(bell(&mut rung), false)
    }
}

impl Interrupter {
    pub(crate) fn interrupt(&self) {
        lock(&self.0.rung).poll = true;
        self.0.condvar.notify_one();
    }

    pub(crate) fn unpark(&self) {
        lock(&self.0.rung).park = true;
        self.0.condvar.notify_one();
    }
}

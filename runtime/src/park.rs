//! Parking: how the loop sleeps when it has nothing to run, and how it is
//! woken.
//!
//! In a normal build the loop sleeps inside the reactor's poll (epoll or
//! kqueue), so one sleep waits for sockets, timers and cross-thread wakes at
//! once. Under `--cfg loom` there is no OS to poll: the model checker cannot
//! see inside a syscall. There, parking is a condition variable, which loom
//! does see, and everything above this file (queues, tasks, the loop itself)
//! is the same code in both builds.

use std::io;
use std::task::Waker;
use std::time::Duration;

#[cfg(not(loom))]
pub(crate) use os::{Driver, Unparker};

#[cfg(loom)]
pub(crate) use model::{Driver, Unparker};

/// What one park saw, for the loop's trace.
pub(crate) use reactor::Turn;

#[cfg(not(loom))]
mod os {
    use super::*;
    use reactor::{Interrupter, Reactor};

    /// The loop's way to sleep: the reactor.
    #[derive(Debug)]
    pub(crate) struct Driver {
        reactor: Reactor,
    }

    /// Wakes a parked [`Driver`] from any thread.
    #[derive(Debug)]
    pub(crate) struct Unparker(Interrupter);

    impl Driver {
        pub(crate) fn new() -> io::Result<Driver> {
            Ok(Driver {
                reactor: Reactor::new()?,
            })
        }

        pub(crate) fn unparker(&self) -> Unparker {
            Unparker(self.reactor.interrupter())
        }

        /// The reactor itself, for the time (and later net) modules.
        pub(crate) fn reactor(&mut self) -> &mut Reactor {
            &mut self.reactor
        }

        /// Sleeps in the reactor; the wakers it gathers go to `woken`.
        pub(crate) fn park(
            &mut self,
            timeout: Option<Duration>,
            woken: &mut Vec<Waker>,
        ) -> io::Result<Turn> {
            self.reactor.turn(timeout, woken)
        }
    }

    impl Unparker {
        pub(crate) fn unpark(&self) {
            self.0.interrupt();
        }
    }
}

#[cfg(loom)]
mod model {
    use super::*;
    use crate::shim::{lock, Condvar, Mutex};
    use loom::sync::Arc;

    /// A condvar and a sticky "notified" flag, like the reactor's eventfd.
    #[derive(Debug)]
    struct Inner {
        notified: Mutex<bool>,
        condvar: Condvar,
    }

    #[derive(Debug)]
    pub(crate) struct Driver(Arc<Inner>);

    #[derive(Debug)]
    pub(crate) struct Unparker(Arc<Inner>);

    impl Driver {
        pub(crate) fn new() -> io::Result<Driver> {
            Ok(Driver(Arc::new(Inner {
                notified: Mutex::new(false),
                condvar: Condvar::new(),
            })))
        }

        pub(crate) fn unparker(&self) -> Unparker {
            Unparker(self.0.clone())
        }

        /// loom has no clock: any timeout other than zero waits for a notify.
        /// No sockets or timers either, so nothing is added to `_woken`.
        pub(crate) fn park(
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

    impl Unparker {
        pub(crate) fn unpark(&self) {
            *lock(&self.0.notified) = true;
            self.0.condvar.notify_one();
        }
    }
}

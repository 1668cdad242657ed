//! The reactor: the part of an event loop that talks to the operating system.
//!
//! An event loop does two things: it runs code that is ready, and when nothing
//! is ready it sleeps until the OS says something happened (a socket became
//! readable, a timer's deadline passed, another thread asked it to wake up).
//! This crate is the second half. It knows about [`std::task::Waker`]s and
//! nothing about tasks: the runtime crate (`runtime`) builds tasks on top.
//!
//! What is here now:
//!
//! - one [`mio::Poll`] (epoll on Linux, kqueue on macOS and the BSDs),
//! - an [`Interrupter`], a handle another thread uses to wake a blocked poll,
//! - [`Reactor::turn`], which waits for events for at most a timeout.
//!
//! Registrations of sockets (readiness bits and the wakers waiting on them)
//! and the timer store arrive with the networking and time chapters; their
//! places in [`Reactor::turn`] are marked.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use mio::{Events, Poll, Token};

/// The token of the cross-thread [`Interrupter`]. Registrations will use
/// tokens below it, so it can never collide with a socket's.
const INTERRUPT_TOKEN: Token = Token(usize::MAX);

/// How many OS events one [`Reactor::turn`] collects at most. Events past this
/// stay queued in the kernel for the next turn; nothing is lost.
const EVENTS_PER_TURN: usize = 1024;

/// One OS poller and what it dispatches to. Owned by the loop's thread.
pub struct Reactor {
    poll: Poll,
    events: Events,
    interrupter: Interrupter,
}

/// What one [`Reactor::turn`] saw, for the loop's trace and statistics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Turn {
    /// OS events that came back, the interrupt included.
    pub events: usize,
    /// Whether another thread interrupted the poll.
    pub interrupted: bool,
}

impl Reactor {
    /// Opens a new poller (an epoll or kqueue file descriptor) and its
    /// interrupter. Fails only when the process is out of file descriptors.
    pub fn new() -> io::Result<Reactor> {
        let poll = Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), INTERRUPT_TOKEN)?;
        Ok(Reactor {
            poll,
            events: Events::with_capacity(EVENTS_PER_TURN),
            interrupter: Interrupter(Arc::new(waker)),
        })
    }

    /// A handle that any thread can use to wake this reactor's poll.
    pub fn interrupter(&self) -> Interrupter {
        self.interrupter.clone()
    }

    // ANCHOR: turn
    /// Waits until the OS reports an event, another thread calls
    /// [`Interrupter::interrupt`], or `timeout` passes (`None`: no limit,
    /// `Some(Duration::ZERO)`: just look, never sleep).
    pub fn turn(&mut self, timeout: Option<Duration>) -> io::Result<Turn> {
        let mut turn = Turn::default();
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            // A signal arrived while we slept: that is an early return with
            // no events, not an error.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(turn),
            Err(e) => return Err(e),
        }
        for event in self.events.iter() {
            turn.events += 1;
            if event.token() == INTERRUPT_TOKEN {
                // mio's Waker is an eventfd (or a pipe): the poll returning
                // is all it was for. mio drains it for us.
                turn.interrupted = true;
                continue;
            }
            // Socket readiness: the networking chapter stores readiness bits
            // and wakes the registration's reader and writer here.
        }
        // Timers: the time chapter fires expired timers here.
        Ok(turn)
    }
    // ANCHOR_END: turn
}

impl std::fmt::Debug for Reactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reactor").finish_non_exhaustive()
    }
}

/// Wakes a [`Reactor`] that is blocked in [`Reactor::turn`], from any thread.
///
/// An interrupt is sticky: if nobody is polling when it is sent, the next
/// `turn` returns at once. That is what lets the runtime check "is the loop
/// asleep?" and interrupt without a race (see the runtime's `queue` module).
#[derive(Clone, Debug)]
pub struct Interrupter(Arc<mio::Waker>);

impl Interrupter {
    /// Makes the reactor's current or next `turn` return. One syscall (a
    /// write to an eventfd), so callers do it only when the loop may sleep.
    pub fn interrupt(&self) {
        // An error here means the eventfd counter is full, i.e. an interrupt
        // is already pending: the poll will return either way.
        let _ = self.0.wake();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn zero_timeout_returns_at_once() {
        let mut reactor = Reactor::new().unwrap();
        let turn = reactor.turn(Some(Duration::ZERO)).unwrap();
        assert_eq!(turn, Turn::default());
    }

    #[test]
    fn interrupt_before_turn_is_not_lost() {
        let mut reactor = Reactor::new().unwrap();
        reactor.interrupter().interrupt();
        let turn = reactor.turn(Some(Duration::from_secs(10))).unwrap();
        assert!(turn.interrupted);
    }

    #[test]
    fn interrupt_from_another_thread_wakes_a_blocked_turn() {
        let mut reactor = Reactor::new().unwrap();
        let interrupter = reactor.interrupter();
        let start = Instant::now();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            interrupter.interrupt();
        });
        let turn = reactor.turn(Some(Duration::from_secs(10))).unwrap();
        assert!(turn.interrupted);
        assert!(start.elapsed() < Duration::from_secs(5));
        t.join().unwrap();
    }
}

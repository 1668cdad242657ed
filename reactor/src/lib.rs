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
//! - the [`Registrations`] of sockets: readiness bits and the lists of
//!   wakers waiting to read or write each one,
//! - the [`Timers`] store, whose nearest deadline bounds the poll's timeout,
//! - [`Reactor::turn`], which waits for events and gathers the wakers of
//!   the sockets that became ready and of the timers that expired, and
//!   [`Reactor::park`], the cheaper sleep for when no socket is watched,
//! - [`wait_list`]: the lists of waiters, shared with the runtime's `sync`
//!   types.
//!
//! The reactor never wakes a waker itself: `turn` hands the wakers to its
//! caller, which wakes them once the reactor is no longer borrowed, since
//! a waker may run any code (even code that reaches for the reactor).

use std::io;
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

use mio::event::Source;
use mio::{Events, Poll, Token};

mod registrations;
mod timers;
pub mod wait_list;
pub use registrations::{Direction, IoKey, Registrations};
pub use timers::{deadline_after, TimerKey, Timers};

/// The token of the cross-thread [`Interrupter`]. Registrations use tokens
/// below it (see `registrations.rs`), so it never collides with a socket's.
const INTERRUPT_TOKEN: Token = Token(usize::MAX);

/// How many OS events one [`Reactor::turn`] collects at most. Events past this
/// stay queued in the kernel for the next turn; nothing is lost.
const EVENTS_PER_TURN: usize = 1024;

/// One OS poller and what it dispatches to. Owned by the loop's thread.
pub struct Reactor {
    poll: Poll,
    events: Events,
    interrupter: Interrupter,
    registrations: Registrations,
    timers: Timers,
    clock: Clock,
}

/// The loop's time. Real, or paused: then it stands still until the loop
/// jumps it to the next timer ([`Reactor::jump_to_next_timer`]), so a test
/// of an hour of timeouts runs in no time and the same way every run.
#[derive(Debug, Clone, Copy)]
enum Clock {
    Real,
    Paused(Instant),
}

/// What one [`Reactor::turn`] saw, for the loop's trace and statistics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Turn {
    /// OS events that came back, the interrupt included.
    pub events: usize,
    /// Whether another thread interrupted the poll.
    pub interrupted: bool,
    /// How long the poll was allowed to wait (`None`: no limit).
    pub timeout: Option<Duration>,
    /// Socket events for live registrations.
    pub io_events: usize,
    /// Timers that expired and were woken.
    pub timers_fired: usize,
    /// How many of the wakers `turn` gathered came from sockets; they come
    /// first, the timers' after them.
    pub socket_wakers: usize,
    /// The loop slept on its thread's park token ([`Reactor::park`]), not
    /// in the OS poll: a park cannot tell who woke it.
    pub parked: bool,
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
            interrupter: Interrupter {
                poll: Arc::new(waker),
                thread: std::thread::current(),
            },
            registrations: Registrations::new(),
            timers: Timers::new(),
            clock: Clock::Real,
        })
    }

    /// The loop's time: `Instant::now()`, or the paused clock's.
    #[inline]
    pub fn now(&self) -> Instant {
        match self.clock {
            Clock::Real => Instant::now(),
            Clock::Paused(now) => now,
        }
    }

    /// Stops the loop's clock where it is now; from here it moves only by
    /// [`Reactor::jump_to_next_timer`].
    pub fn pause_clock(&mut self) {
        self.clock = Clock::Paused(self.now());
    }

    /// Is the clock paused?
    pub fn clock_is_paused(&self) -> bool {
        matches!(self.clock, Clock::Paused(_))
    }

    /// A paused clock jumps to the nearest timer's deadline (the next
    /// `turn` or `park` then fires it). False, and nothing moves, if no
    /// timer is pending or the clock is real.
    pub fn jump_to_next_timer(&mut self) -> bool {
        let Clock::Paused(now) = self.clock else {
            return false;
        };
        let Some(deadline) = self.timers.next_deadline() else {
            return false;
        };
        self.clock = Clock::Paused(now.max(deadline));
        true
    }

    /// The loop's timers: the time module inserts and cancels here.
    pub fn timers(&mut self) -> &mut Timers {
        &mut self.timers
    }

    /// Starts watching `source` (a mio socket) for reads and writes.
    pub fn register(&mut self, source: &mut impl Source) -> io::Result<IoKey> {
        self.registrations.register(self.poll.registry(), source)
    }

    /// Stops watching `source`; call it before the socket is closed.
    pub fn deregister(&mut self, source: &mut impl Source, key: IoKey) {
        self.registrations
            .deregister(self.poll.registry(), source, key);
    }

    /// Frees the entry of a socket that was closed without `deregister`
    /// (on another thread: closing it took it out of the poller).
    pub fn forget(&mut self, key: IoKey) {
        self.registrations.forget(key);
    }

    /// The loop's registered sockets: the net module waits and clears
    /// readiness here.
    pub fn registrations(&mut self) -> &mut Registrations {
        &mut self.registrations
    }

    /// A handle that any thread can use to wake this reactor's poll.
    pub fn interrupter(&self) -> Interrupter {
        self.interrupter.clone()
    }

    // ANCHOR: turn
    /// Waits until the OS reports an event, another thread calls
    /// [`Interrupter::interrupt`], the nearest timer is due, or `timeout`
    /// passes (`None`: no limit, `Some(Duration::ZERO)`: just look, never
    /// sleep). Adds to `woken` the wakers of the sockets that became ready,
    /// then those of every timer whose deadline has passed: the caller
    /// wakes them, after it stops borrowing the reactor.
    pub fn turn(&mut self, timeout: Option<Duration>, woken: &mut Vec<Waker>) -> io::Result<Turn> {
        // The nearest deadline bounds the sleep: this is how timers work.
        let timeout = self.timers.poll_timeout(self.now(), timeout);
        let mut turn = Turn {
            timeout,
            ..Turn::default()
        };
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            // A signal arrived while we slept: that is an early return with
            // no events, not an error.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        // The OS reports events in the order they came; a loop exploring
        // schedules (the feature `explore`) takes them in token order, so
        // that only its seed chooses what runs first.
        #[cfg(feature = "explore")]
        let events = {
            let mut events: Vec<_> = self.events.iter().collect();
            events.sort_by_key(|event| event.token());
            events
        };
        #[cfg(not(feature = "explore"))]
        let events = self.events.iter();
        for event in events {
            turn.events += 1;
            if event.token() == INTERRUPT_TOKEN {
                // mio's Waker is an edge-triggered eventfd (or a pipe): each
                // interrupt is a fresh event, and the poll returning is all
                // it was for. mio resets the counter only if it fills up, so
                // there is nothing to read here.
                turn.interrupted = true;
                continue;
            }
            // A socket: remember its readiness, take its readers or writers.
            if self.registrations.dispatch(event, woken) {
                turn.io_events += 1;
            }
        }
        turn.socket_wakers = woken.len();
        turn.timers_fired = self.timers.fire_expired(self.now(), woken);
        Ok(turn)
    }
    // ANCHOR_END: turn

    /// Is any socket registered? With none, the OS poll has nothing to
    /// report but the interrupt, and [`Reactor::park`] sleeps for less.
    pub fn watches_sockets(&self) -> bool {
        !self.registrations.is_empty()
    }

    /// Waits in this reactor's bed: [`Reactor::turn`] if it watches
    /// sockets, [`Reactor::park`] if not (the bed the caller announced, by
    /// asking [`Reactor::watches_sockets`] while it held the reactor).
    pub fn wait(&mut self, timeout: Option<Duration>, woken: &mut Vec<Waker>) -> io::Result<Turn> {
        if self.watches_sockets() {
            self.turn(timeout, woken)
        } else {
            Ok(self.park(timeout, woken))
        }
    }

    // ANCHOR: park
    /// [`Reactor::turn`] for a reactor that watches no socket: sleeps on the
    /// thread's own park token (a futex on Linux) instead of in the OS
    /// poll, until [`Interrupter::unpark`], the nearest timer, or `timeout`;
    /// then gathers the wakers of the expired timers. Call it on the thread
    /// that made the reactor, and only when [`Reactor::watches_sockets`] is
    /// false: a socket's event would not end this sleep. A wake-up with
    /// nothing to do (a stale unpark) is harmless: the caller looks again.
    pub fn park(&mut self, timeout: Option<Duration>, woken: &mut Vec<Waker>) -> Turn {
        let timeout = self.timers.poll_timeout(self.now(), timeout);
        match timeout {
            Some(Duration::ZERO) => {} // a timer is due, or the caller only looks
            Some(limit) => std::thread::park_timeout(limit),
            None => std::thread::park(),
        }
        let timers_fired = self.timers.fire_expired(self.now(), woken);
        Turn {
            timeout,
            timers_fired,
            parked: true,
            ..Turn::default()
        }
    }
    // ANCHOR_END: park
}

impl std::fmt::Debug for Reactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reactor").finish_non_exhaustive()
    }
}

/// Wakes a [`Reactor`] that is asleep in [`Reactor::turn`] or
/// [`Reactor::park`], from any thread: one bell for each bed.
///
/// Both are sticky: if nobody sleeps when one is rung, the next `turn` (or
/// `park`) returns at once. That is what lets the runtime check "is the loop
/// asleep, and where?" and wake it without a race (see the runtime's `queue`
/// module).
#[derive(Clone, Debug)]
pub struct Interrupter {
    poll: Arc<mio::Waker>,
    /// The thread that made the reactor: the one that parks.
    thread: std::thread::Thread,
}

impl Interrupter {
    /// Makes the reactor's current or next `turn` return. One syscall (a
    /// write to an eventfd), so callers do it only when the loop may sleep.
    pub fn interrupt(&self) {
        // An error here means the eventfd counter is full, i.e. an interrupt
        // is already pending: the poll will return either way.
        let _ = self.poll.wake();
    }

    /// Makes the reactor's current or next `park` return: a futex wake on
    /// Linux, cheaper than the eventfd's write and the poll's wake-up.
    pub fn unpark(&self) {
        self.thread.unpark();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn zero_timeout_returns_at_once() {
        let mut reactor = Reactor::new().unwrap();
        let turn = reactor.turn(Some(Duration::ZERO), &mut Vec::new()).unwrap();
        assert_eq!(turn.events, 0);
        assert!(!turn.interrupted);
    }

    #[test]
    fn interrupt_before_turn_is_not_lost() {
        let mut reactor = Reactor::new().unwrap();
        reactor.interrupter().interrupt();
        let turn = reactor
            .turn(Some(Duration::from_secs(10)), &mut Vec::new())
            .unwrap();
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
        let turn = reactor
            .turn(Some(Duration::from_secs(10)), &mut Vec::new())
            .unwrap();
        assert!(turn.interrupted);
        assert!(start.elapsed() < Duration::from_secs(5));
        t.join().unwrap();
    }

    #[test]
    fn unpark_before_park_is_not_lost() {
        let mut reactor = Reactor::new().unwrap();
        assert!(!reactor.watches_sockets());
        reactor.interrupter().unpark();
        let start = Instant::now();
        reactor.park(Some(Duration::from_secs(10)), &mut Vec::new());
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn unpark_from_another_thread_ends_a_park() {
        let mut reactor = Reactor::new().unwrap();
        let interrupter = reactor.interrupter();
        let sent = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let start = Instant::now();
        let t = std::thread::spawn({
            let sent = sent.clone();
            move || {
                std::thread::sleep(Duration::from_millis(50));
                sent.store(true, std::sync::atomic::Ordering::SeqCst);
                interrupter.unpark();
            }
        });
        // A stale token may end a park early: look again until the unpark
        // was sent, as the loop does with its queue.
        while !sent.load(std::sync::atomic::Ordering::SeqCst) {
            reactor.park(Some(Duration::from_secs(10)), &mut Vec::new());
        }
        assert!(start.elapsed() < Duration::from_secs(5));
        t.join().unwrap();
    }

    #[test]
    fn a_park_ends_at_the_nearest_timer_and_fires_it() {
        let mut reactor = Reactor::new().unwrap();
        let start = Instant::now();
        reactor
            .timers()
            .insert(start + Duration::from_millis(20), Waker::noop().clone());
        let mut woken = Vec::new();
        let mut turn = Turn::default();
        while woken.is_empty() {
            turn = reactor.park(None, &mut woken);
        }
        assert_eq!(turn.timers_fired, 1);
        assert!(start.elapsed() >= Duration::from_millis(20));
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_paused_clock_moves_only_by_jumping_to_the_next_timer() {
        let mut reactor = Reactor::new().unwrap();
        assert!(!reactor.jump_to_next_timer(), "a real clock does not jump");
        reactor.pause_clock();
        let start = reactor.now();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(reactor.now(), start, "a paused clock stands still");
        assert!(!reactor.jump_to_next_timer(), "no timer: nowhere to jump");
        let hour = start + Duration::from_secs(3600);
        reactor.timers().insert(hour, Waker::noop().clone());
        assert!(reactor.jump_to_next_timer());
        assert_eq!(reactor.now(), hour);
        let mut woken = Vec::new();
        let turn = reactor.park(Some(Duration::ZERO), &mut woken);
        assert_eq!(turn.timers_fired, 1);
    }
}

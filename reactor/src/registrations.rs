//! Registrations: the sockets a loop watches, their readiness, and the
//! wakers waiting for them.
//!
//! A socket in an event loop is non-blocking: `read` never waits, it returns
//! `WouldBlock` when there is nothing to read. So a read in a task is a loop
//! of "try; on `WouldBlock`, wait until the OS says the socket is readable;
//! try again". This file keeps what that loop needs, one entry per socket:
//!
//! - **readiness bits** (readable, writable), set when epoll or kqueue
//!   reports an event and cleared by the task when an operation returned
//!   `WouldBlock` (see "Edge-triggered" below), and two **closed bits**
//!   (the peer closed its side, or the socket failed) that are never
//!   cleared, because a closed socket stays closed;
//! - **a list of readers and a list of writers**, the tasks waiting for
//!   each direction (see `wait_list.rs`). Lists, not slots: two tasks may
//!   wait to accept on one listener, or to receive on one UDP socket, and a
//!   second waiter must never overwrite the first. When the OS reports a
//!   direction ready, *every* waiter of that direction is woken; each tries
//!   its operation, and those that find nothing left (`WouldBlock`) wait
//!   again. One task can read while another writes the same socket.
//!
//! The entries live in a `slab` (a `Vec` with a free list): registering is
//! O(1) and an entry's index is the mio `Token` the OS gives back with each
//! event, so dispatching an event is an array index, not a map lookup.
//!
//! # Tokens carry a generation
//!
//! A slab reuses the slot of a socket that was closed. If an event for the
//! old socket is still in flight (the kernel queued it before we
//! deregistered), it must not wake the socket that now lives in the slot.
//! So each token is `index | generation << INDEX_BITS`, the generation is
//! bumped every time a slot is reused, and an event whose generation does
//! not match its slot's is dropped.
//!
//! # Edge-triggered
//!
//! mio registers sockets edge-triggered: the OS reports a socket once when
//! it *becomes* readable, not again while it stays readable. So readiness
//! is a fact we remember, and the invariant is:
//!
//! > A readiness bit is cleared only when the socket has been shown to be
//! > drained: an operation returned `WouldBlock`, or (TCP only) a read or
//! > write moved fewer bytes than asked, which means the kernel's buffer
//! > ran dry (or full) during that call.
//!
//! Clearing it any earlier loses the edge: the OS will not report again, and
//! the task waits forever. That is also why "closed" has bits of its own:
//! a short read can drain the data while the peer's end-of-stream is already
//! known, and no new edge will ever announce it again. Clearing is safe against a racing event because
//! the reactor turns only between polls: an event that arrives after the
//! operation but before the clear is still sitting in the kernel, and the
//! next turn sets the bit again.

use std::io;
use std::task::{Poll, Waker};

use mio::event::{Event, Source};
use mio::{Interest, Registry, Token};
use slab::Slab;

use crate::wait_list::{List, WaiterKey, Waiters};

/// Which way a task waits on a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Waiting to read (or accept, or receive).
    Read,
    /// Waiting to write (or for a connect to finish).
    Write,
}

impl Direction {
    /// The bit that an operation showing "drained" clears.
    fn ready_bit(self) -> u8 {
        match self {
            Direction::Read => READABLE,
            Direction::Write => WRITABLE,
        }
    }

    /// The bits that let an operation in this direction go ahead.
    fn go_bits(self) -> u8 {
        match self {
            Direction::Read => READABLE | READ_CLOSED,
            Direction::Write => WRITABLE | WRITE_CLOSED,
        }
    }
}

const READABLE: u8 = 0b0001;
const WRITABLE: u8 = 0b0010;
/// The peer shut down its writing side, or the socket failed: reads will
/// not block again. Never cleared.
const READ_CLOSED: u8 = 0b0100;
/// The peer is gone, or the socket failed: writes will not block again.
/// Never cleared.
const WRITE_CLOSED: u8 = 0b1000;

/// The low bits of a token are the slab index, the rest its generation.
/// 2^32 sockets is more than any process can open.
const INDEX_BITS: u32 = 32;
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;
/// Generations wrap below this, so no token is ever `usize::MAX`, the token
/// the reactor keeps for its cross-thread interrupt.
const GENERATION_LIMIT: u32 = u32::MAX;

/// Names one registration; given back by [`Registrations::register`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IoKey {
    index: usize,
    generation: u32,
}

impl IoKey {
    fn token(self) -> Token {
        Token(self.index | (self.generation as usize) << INDEX_BITS)
    }

    fn from_token(token: Token) -> IoKey {
        IoKey {
            index: token.0 & INDEX_MASK,
            generation: (token.0 >> INDEX_BITS) as u32,
        }
    }
}

/// One registered socket.
#[derive(Debug, Default)]
struct Entry {
    generation: u32,
    /// READABLE, WRITABLE and the two CLOSED bits; see the module docs.
    readiness: u8,
    readers: List,
    writers: List,
}

impl Entry {
    fn waiting(&mut self, direction: Direction) -> &mut List {
        match direction {
            Direction::Read => &mut self.readers,
            Direction::Write => &mut self.writers,
        }
    }
}

/// Every socket one loop watches.
#[derive(Debug, Default)]
pub struct Registrations {
    entries: Slab<Entry>,
    /// The generation of each slab index ever used, so a reused slot gets a
    /// new one. Indexed like `entries`; only grows, by one word per slot.
    generations: Vec<u32>,
    /// The nodes of every entry's reader and writer lists.
    waiters: Waiters<()>,
}

impl Registrations {
    /// An empty set.
    pub fn new() -> Registrations {
        Registrations::default()
    }

    // ANCHOR: register
    /// Registers `source` with the OS poller for reads and writes, and gives
    /// it an entry. The socket starts out assumed ready both ways: a new
    /// socket may already hold data, and trying costs one syscall.
    pub fn register(&mut self, registry: &Registry, source: &mut impl Source) -> io::Result<IoKey> {
        let entry = self.entries.vacant_entry();
        let index = entry.key();
        if index == self.generations.len() {
            self.generations.push(0);
        }
        let generation = (self.generations[index] + 1) % GENERATION_LIMIT;
        let key = IoKey { index, generation };
        registry.register(source, key.token(), Interest::READABLE | Interest::WRITABLE)?;
        self.generations[index] = generation;
        entry.insert(Entry {
            generation,
            readiness: READABLE | WRITABLE,
            readers: List::new(),
            writers: List::new(),
        });
        Ok(key)
    }

    /// Removes `source` from the poller and frees its entry. The waiters
    /// borrow the socket, so they are gone by now; a node left over (from a
    /// future that was leaked with `mem::forget`) is freed, not woken.
    pub fn deregister(&mut self, registry: &Registry, source: &mut impl Source, key: IoKey) {
        self.forget(key);
        // This fails only if the socket was never registered or is already
        // closed; either way the OS is no longer watching it.
        let _ = registry.deregister(source);
    }

    /// Frees the entry of a socket that is closed already (dropped on
    /// another thread: closing took it out of the poller). A stale event
    /// for it is dropped by the generation check.
    pub fn forget(&mut self, key: IoKey) {
        if self.get(key).is_some() {
            let mut entry = self.entries.remove(key.index);
            for list in [&mut entry.readers, &mut entry.writers] {
                while let Some((waiter, _waker)) = self.waiters.take_front(list) {
                    self.waiters.remove(list, waiter);
                }
            }
            self.waiters.shrink();
        }
    }
    // ANCHOR_END: register

    // ANCHOR: poll_ready
    /// Is the socket ready in `direction`? If so, the caller's waiter (if it
    /// had one) leaves the list and the answer is `Ready`. If not, the
    /// caller joins the list (or refreshes its waker there) and the answer
    /// is `Pending`. `waiter` is the caller's place, kept in its future.
    ///
    /// The second half of the answer is a waker this call took out of the
    /// list (an old one, replaced): drop it after releasing the reactor.
    pub fn poll_ready(
        &mut self,
        key: IoKey,
        direction: Direction,
        waiter: &mut Option<WaiterKey>,
        waker: &Waker,
    ) -> (Poll<()>, Option<Waker>) {
        let Some((entry, waiters)) = self.entry_and_waiters(key) else {
            // Deregistered: let the operation run and report the error.
            return (Poll::Ready(()), None);
        };
        let ready = entry.readiness & direction.go_bits() != 0;
        let list = entry.waiting(direction);
        if ready {
            let old = waiter.take().and_then(|w| waiters.remove(list, w));
            return (Poll::Ready(()), old.and_then(|removed| removed.waker));
        }
        // Not ready: wait in the list. A waiter that was woken but found
        // nothing (another waiter took it) joins again at the back.
        let old = match *waiter {
            Some(w) if waiters.is_waiting(w) => waiters.update_waker(w, waker),
            stale => {
                let old = stale.and_then(|w| waiters.remove(list, w));
                *waiter = Some(waiters.push_back(list, waker.clone(), ()));
                old.and_then(|removed| removed.waker)
            }
        };
        (Poll::Pending, old)
    }

    /// A waiting future is done or dropped: frees its place in the list at
    /// once. Gives back the stored waker, to drop after releasing the
    /// reactor. Nothing is passed on: a readiness event wakes every waiter,
    /// so no other waiter depends on this one.
    pub fn leave(
        &mut self,
        key: IoKey,
        direction: Direction,
        waiter: &mut Option<WaiterKey>,
    ) -> Option<Waker> {
        let w = waiter.take()?;
        let (entry, waiters) = self.entry_and_waiters(key)?;
        waiters.remove(entry.waiting(direction), w)?.waker
    }

    /// Forgets that the socket was ready in `direction`, because an
    /// operation just showed it is not (see the module's invariant).
    pub fn clear_ready(&mut self, key: IoKey, direction: Direction) {
        if let Some(entry) = self.get_mut(key) {
            entry.readiness &= !direction.ready_bit();
        }
    }

    /// Records an event from the OS and takes every waiter it lets go
    /// ahead out of its list, adding their wakers to `woken`: the caller
    /// wakes them once the reactor is no longer borrowed. An event for a slot
    /// that was freed or reused since is dropped. Returns true if the event
    /// was for a live registration.
    pub fn dispatch(&mut self, event: &Event, woken: &mut Vec<Waker>) -> bool {
        let Some((entry, waiters)) = self.entry_and_waiters(IoKey::from_token(event.token()))
        else {
            return false;
        };
        // An error closes both sides: the next read or write returns it,
        // which is how the task learns what went wrong.
        let failed = event.is_error();
        let mut new = 0;
        if event.is_readable() {
            new |= READABLE;
        }
        if event.is_read_closed() || failed {
            new |= READ_CLOSED;
        }
        if event.is_writable() {
            new |= WRITABLE;
        }
        if event.is_write_closed() || failed {
            new |= WRITE_CLOSED;
        }
        entry.readiness |= new;
        for direction in [Direction::Read, Direction::Write] {
            if new & direction.go_bits() != 0 {
                let list = entry.waiting(direction);
                while let Some((_, waker)) = waiters.take_front(list) {
                    woken.push(waker);
                }
            }
        }
        true
    }

    /// Waiter nodes alive across every socket: waiting, or woken and not
    /// yet back. Tests read it to check that cancelled waits free theirs.
    pub fn waiter_count(&self) -> usize {
        self.waiters.len()
    }
    // ANCHOR_END: poll_ready

    /// How many sockets are registered.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if no socket is registered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry, and beside it the slab its lists live in.
    fn entry_and_waiters(&mut self, key: IoKey) -> Option<(&mut Entry, &mut Waiters<()>)> {
        let entry = self
            .entries
            .get_mut(key.index)
            .filter(|entry| entry.generation == key.generation)?;
        Some((entry, &mut self.waiters))
    }

    fn get(&self, key: IoKey) -> Option<&Entry> {
        self.entries
            .get(key.index)
            .filter(|entry| entry.generation == key.generation)
    }

    fn get_mut(&mut self, key: IoKey) -> Option<&mut Entry> {
        self.entries
            .get_mut(key.index)
            .filter(|entry| entry.generation == key.generation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_never_hit_the_interrupt_token() {
        let key = IoKey {
            index: 7,
            generation: GENERATION_LIMIT - 1,
        };
        assert_eq!(IoKey::from_token(key.token()), key);
        assert_ne!(key.token(), Token(usize::MAX));
    }

    #[test]
    fn a_reused_slot_gets_a_new_generation() {
        let poll = mio::Poll::new().unwrap();
        let mut regs = Registrations::new();
        let addr = "127.0.0.1:0".parse().unwrap();
        let mut a = mio::net::UdpSocket::bind(addr).unwrap();
        let key_a = regs.register(poll.registry(), &mut a).unwrap();
        regs.deregister(poll.registry(), &mut a, key_a);
        let mut b = mio::net::UdpSocket::bind(addr).unwrap();
        let key_b = regs.register(poll.registry(), &mut b).unwrap();
        assert_eq!(key_a.index, key_b.index, "the slab reuses the slot");
        assert_ne!(key_a.generation, key_b.generation);
        // The old key no longer reaches the new socket's entry.
        regs.clear_ready(key_a, Direction::Read);
        let waker = futures_noop_waker();
        let mut waiter = None;
        let (ready, _) = regs.poll_ready(key_b, Direction::Read, &mut waiter, &waker);
        assert!(ready.is_ready());
    }

    #[test]
    fn every_waiter_of_a_direction_is_kept_and_a_leaver_frees_its_place() {
        let poll = mio::Poll::new().unwrap();
        let mut regs = Registrations::new();
        let mut socket = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let key = regs.register(poll.registry(), &mut socket).unwrap();
        regs.clear_ready(key, Direction::Read);
        let waker = futures_noop_waker();
        let (mut a, mut b) = (None, None);
        assert!(regs
            .poll_ready(key, Direction::Read, &mut a, &waker)
            .0
            .is_pending());
        assert!(regs
            .poll_ready(key, Direction::Read, &mut b, &waker)
            .0
            .is_pending());
        assert_eq!(
            regs.waiter_count(),
            2,
            "the second waiter did not replace the first"
        );
        regs.leave(key, Direction::Read, &mut b);
        assert_eq!(regs.waiter_count(), 1);
        regs.leave(key, Direction::Read, &mut a);
        assert_eq!(regs.waiter_count(), 0);
    }

    fn futures_noop_waker() -> Waker {
        struct Noop;
        impl std::task::Wake for Noop {
            fn wake(self: std::sync::Arc<Self>) {}
        }
        Waker::from(std::sync::Arc::new(Noop))
    }
}

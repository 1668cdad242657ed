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
//! - **a reader and a writer waker**, the tasks waiting for each direction.
//!   Two slots, so one task can read while another writes the same socket.
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
use std::task::{Context, Poll, Waker};

use mio::event::{Event, Source};
use mio::{Interest, Registry, Token};
use slab::Slab;

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
    reader: Option<Waker>,
    writer: Option<Waker>,
}

/// Every socket one loop watches.
#[derive(Debug, Default)]
pub struct Registrations {
    entries: Slab<Entry>,
    /// The generation of each slab index ever used, so a reused slot gets a
    /// new one. Indexed like `entries`; only grows, by one word per slot.
    generations: Vec<u32>,
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
            reader: None,
            writer: None,
        });
        Ok(key)
    }

    /// Removes `source` from the poller and frees its entry. Any waker still
    /// stored is dropped, not woken: the socket's owner is going away.
    pub fn deregister(&mut self, registry: &Registry, source: &mut impl Source, key: IoKey) {
        if self.get(key).is_some() {
            self.entries.remove(key.index);
        }
        // This fails only if the socket was never registered or is already
        // closed; either way the OS is no longer watching it.
        let _ = registry.deregister(source);
    }
    // ANCHOR_END: register

    // ANCHOR: poll_ready
    /// Is the socket ready in `direction`? If not, stores the task's waker
    /// so the next event in that direction wakes it.
    pub fn poll_ready(
        &mut self,
        key: IoKey,
        direction: Direction,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        let Some(entry) = self.get_mut(key) else {
            // Deregistered: let the operation run and report the error.
            return Poll::Ready(());
        };
        if entry.readiness & direction.go_bits() != 0 {
            return Poll::Ready(());
        }
        let slot = match direction {
            Direction::Read => &mut entry.reader,
            Direction::Write => &mut entry.writer,
        };
        match slot {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Forgets that the socket was ready in `direction`, because an
    /// operation just showed it is not (see the module's invariant).
    pub fn clear_ready(&mut self, key: IoKey, direction: Direction) {
        if let Some(entry) = self.get_mut(key) {
            entry.readiness &= !direction.ready_bit();
        }
    }

    /// Records an event from the OS and wakes whoever waits for it. An event
    /// for a slot that was freed or reused since is dropped. Returns true if
    /// the event was for a live registration.
    pub fn dispatch(&mut self, event: &Event) -> bool {
        let Some(entry) = self.get_mut(IoKey::from_token(event.token())) else {
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
        if new & Direction::Read.go_bits() != 0 {
            if let Some(waker) = entry.reader.take() {
                waker.wake();
            }
        }
        if new & Direction::Write.go_bits() != 0 {
            if let Some(waker) = entry.writer.take() {
                waker.wake();
            }
        }
        true
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
        let mut cx = Context::from_waker(&waker);
        assert!(regs.poll_ready(key_b, Direction::Read, &mut cx).is_ready());
    }

    fn futures_noop_waker() -> Waker {
        struct Noop;
        impl std::task::Wake for Noop {
            fn wake(self: std::sync::Arc<Self>) {}
        }
        Waker::from(std::sync::Arc::new(Noop))
    }
}

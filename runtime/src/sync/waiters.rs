//! A fair waiter list: the one piece `Queue`, `Semaphore` and `Event` are
//! built on.
//!
//! A task that cannot go on (the queue is empty, no permit is free) joins
//! the list and returns `Pending`. Whoever makes progress possible *grants*
//! the first waiter: marks it granted, optionally hands it a value (an
//! item, a permit), and wakes it. Waiters are granted in the order they
//! arrived, so a later arrival never overtakes an earlier one.
//!
//! # Cancellation
//!
//! A waiting future can be dropped at any time: by `timeout`, by `abort`,
//! by `try_gather` giving up. Two cases, and each primitive handles the
//! second one its own way:
//!
//! - dropped while still waiting: it leaves the list and no trace;
//! - dropped after it was granted but before it ran: it holds something
//!   (a wakeup, an item, a permit) that another waiter needs. It must pass
//!   it on, or that waiter waits forever. [`WaitList::cancel`] gives the
//!   grant back to the caller, which re-grants it.
//!
//! # Cost
//!
//! Joining, granting and leaving are O(1) (amortised): entries live in a
//! `slab`, and the arrival order is a `VecDeque` of (slot, ticket) pairs.
//! A waiter that leaves is not searched for in the deque; its stale pair
//! is skipped when it reaches the front, recognised by its ticket.
//!
//! The list is for tasks of one loop: it sits behind a `RefCell`, not a
//! lock, which is why these primitives are not `Send`.

use std::collections::VecDeque;
use std::task::Waker;

use slab::Slab;

// ANCHOR: wait_list
/// A place in the list, held by the waiting future.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WaiterKey {
    slot: usize,
    ticket: u64,
}

struct Waiter<T> {
    ticket: u64,
    waker: Waker,
    /// What the waiter brings (a `put`'s item) before it is granted, or
    /// what it is given (a `get`'s item) once it is.
    value: Option<T>,
    granted: bool,
}

/// Waiters in arrival order. `T` is what travels with a waiter.
pub(crate) struct WaitList<T> {
    waiters: Slab<Waiter<T>>,
    /// Waiters not yet granted, oldest first. May hold stale pairs of
    /// waiters that left; their ticket no longer matches.
    order: VecDeque<WaiterKey>,
    next_ticket: u64,
}
// ANCHOR_END: wait_list

impl<T> WaitList<T> {
    pub(crate) fn new() -> WaitList<T> {
        WaitList {
            waiters: Slab::new(),
            order: VecDeque::new(),
            next_ticket: 0,
        }
    }

    // ANCHOR: join
    /// Joins the back of the list, carrying `value` (for a `put`, its item).
    pub(crate) fn join(&mut self, waker: &Waker, value: Option<T>) -> WaiterKey {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        let slot = self.waiters.insert(Waiter {
            ticket,
            waker: waker.clone(),
            value,
            granted: false,
        });
        let key = WaiterKey { slot, ticket };
        self.order.push_back(key);
        key
    }

    /// True if some waiter is still waiting (not granted).
    pub(crate) fn has_waiting(&mut self) -> bool {
        self.front().is_some()
    }

    /// The oldest waiter still waiting, after dropping stale pairs.
    fn front(&mut self) -> Option<WaiterKey> {
        while let Some(&key) = self.order.front() {
            match self.waiters.get(key.slot) {
                Some(w) if w.ticket == key.ticket && !w.granted => return Some(key),
                _ => {
                    self.order.pop_front();
                }
            }
        }
        None
    }
    // ANCHOR_END: join

    // ANCHOR: grant
    /// Grants the oldest waiter: marks it granted, lets `give` take what it
    /// brought and hand it what it gets, and wakes it. Returns false if
    /// nobody was waiting.
    pub(crate) fn grant_first(&mut self, give: impl FnOnce(&mut Option<T>)) -> bool {
        let Some(key) = self.front() else {
            return false;
        };
        self.order.pop_front();
        let waiter = &mut self.waiters[key.slot];
        waiter.granted = true;
        give(&mut waiter.value);
        waiter.waker.wake_by_ref();
        true
    }
    // ANCHOR_END: grant

    /// Grants every waiter (an `Event` being set).
    pub(crate) fn grant_all(&mut self) {
        while self.grant_first(|_| {}) {}
    }

    // ANCHOR: poll_cancel
    /// A waiter polled again: if granted, leaves the list and returns what
    /// it holds (`Some(value)`); if not, refreshes its waker.
    pub(crate) fn poll_granted(&mut self, key: WaiterKey, waker: &Waker) -> Option<Option<T>> {
        let waiter = &mut self.waiters[key.slot];
        if waiter.granted {
            return Some(self.waiters.remove(key.slot).value);
        }
        if !waiter.waker.will_wake(waker) {
            waiter.waker.clone_from(waker);
        }
        None
    }

    /// A waiting future was dropped. It leaves the list; if it had been
    /// granted, returns `Some(what it holds)` so the caller can pass the
    /// grant on to the next waiter.
    pub(crate) fn cancel(&mut self, key: WaiterKey) -> Option<Option<T>> {
        let waiter = self.waiters.remove(key.slot);
        // A waiting one leaves a stale pair in `order`, skipped later.
        waiter.granted.then_some(waiter.value)
    }
    // ANCHOR_END: poll_cancel
}

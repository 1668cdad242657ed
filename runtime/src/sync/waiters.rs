//! A fair waiter list: the one piece `Queue`, `Semaphore` and `Event` are
//! built on.
//!
//! A task that cannot go on (the queue is empty, no permit is free) joins
//! the list and returns `Pending`. Whoever makes progress possible *grants*
//! the first waiter: takes it out of the list, optionally hands it a value
//! (an item, a permit), and wakes it. Waiters are granted in the order they
//! arrived, so a later arrival never overtakes an earlier one.
//!
//! The list itself is the reactor's (`reactor/src/wait_list.rs`), the same
//! one a socket's waiters wait in: nodes in a slab, linked both ways.
//!
//! # Cancellation
//!
//! A waiting future can be dropped at any time: by `timeout`, by `abort`,
//! by `try_gather` giving up. Two cases, and each primitive handles the
//! second one its own way:
//!
//! - dropped while still waiting: its node leaves the list at once, O(1),
//!   so a million cancelled waits behind one patient waiter leave nothing;
//! - dropped after it was granted but before it ran: it holds something
//!   (a wakeup, an item, a permit) that another waiter needs. It must pass
//!   it on, or that waiter waits forever. [`WaitList::cancel`] gives the
//!   grant back to the caller, which re-grants it.
//!
//! # No user code inside a borrow
//!
//! Each primitive keeps its state in a `RefCell`. Waking a waker, dropping
//! a waker, dropping an item: all of these run code we do not control, and
//! that code may well touch the same primitive (an item whose `Drop` puts
//! into the queue). So nothing here wakes or drops user values: they go
//! into a [`Later`], which the primitive runs once its borrow has ended.
//!
//! The list is for tasks of one loop: it sits behind a `RefCell`, not a
//! lock, which is why these primitives are not `Send`.

use std::task::Waker;

use reactor::wait_list::{List, Waiters, WakeList};

pub(crate) use reactor::wait_list::WaiterKey;

// ANCHOR: wait_list
/// Waiters in arrival order. `T` is what travels with a waiter: what it
/// brings before it is granted (a `put`'s item), or what it is given when
/// it is (a `get`'s item).
pub(crate) struct WaitList<T> {
    waiters: Waiters<Option<T>>,
    /// The waiters not yet granted, oldest first. A granted node has left
    /// the list but stays in `waiters` until its owner collects it.
    waiting: List,
}

/// What to do once the primitive's `RefCell` borrow has ended: wake the
/// granted waiters, and drop the values and wakers that were let go.
pub(crate) struct Later<T> {
    wake: WakeList,
    drop_value: Option<T>,
    drop_waker: Option<Waker>,
}
// ANCHOR_END: wait_list

impl<T> Later<T> {
    pub(crate) const fn new() -> Later<T> {
        Later {
            wake: WakeList::new(),
            drop_value: None,
            drop_waker: None,
        }
    }

    /// Does it all. Call it after the borrow ends.
    pub(crate) fn run(self) {
        drop(self.drop_value);
        drop(self.drop_waker);
        self.wake.wake_all();
    }

    fn drop_value_later(&mut self, value: T) {
        debug_assert!(self.drop_value.is_none(), "one value let go per call");
        self.drop_value = Some(value);
    }
}

impl<T> WaitList<T> {
    pub(crate) const fn new() -> WaitList<T> {
        WaitList {
            waiters: Waiters::new(),
            waiting: List::new(),
        }
    }

    // ANCHOR: join
    /// Joins the back of the list, carrying `value` (for a `put`, its item).
    pub(crate) fn join(&mut self, waker: &Waker, value: Option<T>) -> WaiterKey {
        self.waiters
            .push_back(&mut self.waiting, waker.clone(), value)
    }

    /// True if some waiter is still waiting (not granted).
    pub(crate) fn has_waiting(&self) -> bool {
        !self.waiting.is_empty()
    }
    // ANCHOR_END: join

    // ANCHOR: grant
    /// Grants the oldest waiter: takes it out of the list, lets `give` take
    /// what it brought and hand it what it gets, and has it woken later.
    /// Returns false if nobody was waiting.
    pub(crate) fn grant_first(
        &mut self,
        later: &mut Later<T>,
        give: impl FnOnce(&mut Option<T>),
    ) -> bool {
        let Some((key, waker)) = self.waiters.take_front(&mut self.waiting) else {
            return false;
        };
        give(self.waiters.value_mut(key).expect("a granted node stays"));
        later.wake.push(waker);
        true
    }
    // ANCHOR_END: grant

    /// Grants every waiter (an `Event` being set).
    pub(crate) fn grant_all(&mut self, later: &mut Later<T>) {
        while self.grant_first(later, |_| {}) {}
    }

    // ANCHOR: poll_acquire
    /// The acquire step that `Lock` and `Semaphore` share. A first poll
    /// takes at once if nobody is in line and `take_free` finds something
    /// free (and takes it); otherwise it joins the line. A later poll
    /// succeeds once a releaser has granted it; what was granted is already
    /// counted as taken (the releaser kept it back for us), so `take_free`
    /// is not asked. `key` is the caller's place in line, `None` again once
    /// the caller holds what it asked for.
    pub(crate) fn poll_acquire(
        &mut self,
        key: &mut Option<WaiterKey>,
        take_free: impl FnOnce() -> bool,
        waker: &Waker,
        later: &mut Later<T>,
    ) -> bool {
        let acquired = match *key {
            None if !self.has_waiting() && take_free() => true,
            None => {
                *key = Some(self.join(waker, None));
                false
            }
            Some(place) => self.poll_granted(place, waker, later).is_some(),
        };
        if acquired {
            *key = None;
        }
        acquired
    }
    // ANCHOR_END: poll_acquire

    // ANCHOR: poll_cancel
    /// A waiter polled again: if granted, leaves the slab and returns what
    /// it holds (`Some(value)`); if not, keeps its place with the waker of
    /// this poll.
    pub(crate) fn poll_granted(
        &mut self,
        key: WaiterKey,
        waker: &Waker,
        later: &mut Later<T>,
    ) -> Option<Option<T>> {
        if self.waiters.is_waiting(key) {
            later.drop_waker = self.waiters.update_waker(key, waker);
            return None;
        }
        let removed = self.waiters.remove(&mut self.waiting, key)?;
        Some(removed.value)
    }

    /// A waiting future was dropped. It leaves at once; if it had been
    /// granted, returns `Some(what it holds)` so the caller can pass the
    /// grant on to the next waiter. What a waiter still waiting brought (a
    /// `put`'s item) is dropped later, with its waker.
    pub(crate) fn cancel(&mut self, key: WaiterKey, later: &mut Later<T>) -> Option<Option<T>> {
        let removed = self.waiters.remove(&mut self.waiting, key)?;
        if removed.was_woken {
            return Some(removed.value);
        }
        later.drop_waker = removed.waker;
        if let Some(value) = removed.value {
            later.drop_value_later(value);
        }
        None
    }
    // ANCHOR_END: poll_cancel

    /// Nodes alive (waiting, or granted and not yet collected). For tests
    /// and `Debug`: after a storm of cancelled waits it is back to the few
    /// that really wait.
    pub(crate) fn len(&self) -> usize {
        self.waiters.len()
    }
}

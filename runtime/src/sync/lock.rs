//! `Lock` and `Condition`: asyncio's `asyncio.Lock` and `asyncio.Condition`.
//!
//! A `Lock<T>` holds its data, as a Rust mutex does: [`Lock::lock`] waits
//! for the lock and gives a [`LockGuard`], through which the data is read
//! and written; dropping the guard unlocks. It is fair, on the same wait
//! list as `Semaphore`: when the holder unlocks and someone waits, the lock
//! is *handed over* to the oldest waiter, still locked, so nobody who comes
//! later (not even `try_lock`) gets in first. A waiter dropped after the
//! lock was handed to it passes it on. There is no poisoning: after a holder
//! panics, the next `lock()` gets the data as it was last written.
//!
//! A `Condition` lets holders of a lock wait for each other:
//! [`Condition::wait`] gives the guard back (unlocking), waits to be
//! notified, and locks again before it returns.

use std::cell::{RefCell, UnsafeCell};
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::waiters::{Later, WaitList, WaiterKey};
use crate::coop;
use crate::observe::{self, WaitRecord};

/// An async lock that holds its data: asyncio's `asyncio.Lock`, with the
/// data inside, as `std::sync::Mutex` has it. For tasks of one loop.
///
/// ```
/// use runtime::sync::Lock;
/// runtime::block_on(async {
///     let balance = std::rc::Rc::new(Lock::new(100));
///     let spend = |n| {
///         let balance = balance.clone();
///         async move {
///             let mut b = balance.lock().await;
///             let before = *b;
///             runtime::yield_now().await; // other tasks run; the lock is held
///             *b = before - n;
///         }
///     };
///     runtime::gather([spend(10), spend(20), spend(30)]).await;
///     assert_eq!(*balance.lock().await, 40); // no lost update
/// });
/// ```
pub struct Lock<T> {
    state: RefCell<LockState>,
    /// Touched only through a `LockGuard`, and a guard exists only while
    /// `state.held` is true and no other guard exists (see `LockGuard`).
    data: UnsafeCell<T>,
}

struct LockState {
    /// Held by a guard, or handed to a waiter that has not taken it yet.
    held: bool,
    waiters: WaitList<()>,
}

// ANCHOR: release
impl LockState {
    /// The holder is done: hand the lock to the oldest waiter (it stays
    /// held), or unlock.
    fn release(&mut self, later: &mut Later<()>) {
        if !self.waiters.grant_first(later, |_| {}) {
            self.held = false;
        }
    }
}
// ANCHOR_END: release

impl<T> Lock<T> {
    /// An unlocked lock holding `value`.
    pub fn new(value: T) -> Lock<T> {
        Lock {
            state: RefCell::new(LockState {
                held: false,
                waiters: WaitList::new(),
            }),
            data: UnsafeCell::new(value),
        }
    }

    /// Waits for the lock, in arrival order, and gives the guard.
    ///
    /// Cancel-safe: a `lock()` dropped after the lock was handed to it
    /// passes the lock on to the next waiter.
    pub fn lock(&self) -> LockFuture<'_, T> {
        LockFuture {
            lock: self,
            key: None,
        }
    }

    // ANCHOR: try_lock
    /// The lock, now, if nobody holds it and nobody waits for it (a lock
    /// handed to a waiter that has not run yet counts as held).
    pub fn try_lock(&self) -> Option<LockGuard<'_, T>> {
        let mut state = self.state.borrow_mut();
        if state.held || state.waiters.has_waiting() {
            return None;
        }
        state.held = true;
        Some(LockGuard { lock: self })
    }
    // ANCHOR_END: try_lock

    /// The data, when no guard can exist: the lock is borrowed mutably.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// The data, taking the lock apart.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

/// The future of [`Lock::lock`].
#[must_use = "a LockFuture does nothing unless awaited"]
pub struct LockFuture<'a, T> {
    lock: &'a Lock<T>,
    key: Option<WaiterKey>,
}

// ANCHOR: lock_poll
impl<'a, T> Future for LockFuture<'a, T> {
    type Output = LockGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<LockGuard<'a, T>> {
        coop::budgeted(cx, |cx| {
            let this = &mut *self;
            let mut later = Later::new();
            let mut state = this.lock.state.borrow_mut();
            let LockState { held, waiters } = &mut *state;
            // Granted in line: the releasing holder left `held` true for us.
            let take_if_free = || {
                let free = !*held;
                *held = true;
                free
            };
            let locked = waiters.poll_acquire(&mut this.key, take_if_free, cx.waker(), &mut later);
            drop(state);
            later.run();
            if !locked {
                observe::waiting_on(WaitRecord::LOCK);
                return Poll::Pending;
            }
            Poll::Ready(LockGuard { lock: this.lock })
        })
    }
}
// ANCHOR_END: lock_poll

// ANCHOR: lock_drop
impl<T> Drop for LockFuture<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            let mut later = Later::new();
            let mut state = self.lock.state.borrow_mut();
            if state.waiters.cancel(key, &mut later).is_some() {
                state.release(&mut later); // handed the lock: pass it on
            }
            drop(state);
            later.run();
        }
    }
}
// ANCHOR_END: lock_drop

// ANCHOR: guard
/// Access to a [`Lock`]'s data; unlocks when dropped (also when a panic
/// unwinds past it).
///
/// Exactly one guard exists while the lock is held: it is made only by a
/// `lock()` or `try_lock()` that found the lock free or was handed it, and
/// the lock stays held until this guard's `Drop`. That is what makes the
/// `&mut T` it gives unique.
#[must_use = "dropping the guard unlocks at once"]
pub struct LockGuard<'a, T> {
    lock: &'a Lock<T>,
}

impl<T> Deref for LockGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard is the only one (see `LockGuard`), so no `&mut
        // T` exists elsewhere while this `&T` lives.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for LockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard is the only one, and `&mut self` makes this
        // borrow the only one through it.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for LockGuard<'_, T> {
    fn drop(&mut self) {
        let mut later = Later::new();
        self.lock.state.borrow_mut().release(&mut later);
        later.run();
    }
}
// ANCHOR_END: guard

/// Holders of a lock waiting for each other: asyncio's `asyncio.Condition`.
///
/// ```
/// use std::rc::Rc;
/// use runtime::sync::{Condition, Lock};
/// runtime::block_on(async {
///     let (items, ready) = (Rc::new(Lock::new(Vec::new())), Rc::new(Condition::new()));
///     let consumer = runtime::spawn({
///         let (items, ready) = (items.clone(), ready.clone());
///         async move {
///             let guard = items.lock().await;
///             let mut guard = ready.wait_for(guard, |items| !items.is_empty()).await;
///             guard.pop()
///         }
///     });
///     runtime::yield_now().await;
///     items.lock().await.push("job");
///     ready.notify(1);
///     assert_eq!(consumer.await.unwrap(), Some("job"));
/// });
/// ```
pub struct Condition {
    waiters: RefCell<WaitList<()>>,
}

impl Condition {
    /// A condition nobody waits on.
    pub fn new() -> Condition {
        Condition {
            waiters: RefCell::new(WaitList::new()),
        }
    }

    // ANCHOR: wait
    /// Unlocks (gives `guard` up), waits until notified, locks again, and
    /// gives the new guard. As in asyncio, wake-ups can be spurious from the
    /// caller's point of view (another task may change the data first), so
    /// check the condition again, or use [`Condition::wait_for`].
    pub async fn wait<'a, T>(&self, guard: LockGuard<'a, T>) -> LockGuard<'a, T> {
        let lock = guard.lock;
        // The notified future is polled right after the unlock, in this
        // same poll, so it joins the list before any other task can run and
        // notify: no notify is lost in between.
        drop(guard);
        Notified {
            condition: self,
            key: None,
        }
        .await;
        lock.lock().await
    }

    /// Waits until `predicate` holds for the data, checking it first, and
    /// again after each notify: asyncio's `Condition.wait_for`.
    pub async fn wait_for<'a, T>(
        &self,
        mut guard: LockGuard<'a, T>,
        mut predicate: impl FnMut(&mut T) -> bool,
    ) -> LockGuard<'a, T> {
        while !predicate(&mut guard) {
            guard = self.wait(guard).await;
        }
        guard
    }
    // ANCHOR_END: wait

    // ANCHOR: notify
    /// Wakes up to `n` waiters, oldest first. A notify with nobody waiting
    /// is not remembered, as in asyncio.
    pub fn notify(&self, n: usize) {
        let mut later = Later::new();
        let mut waiters = self.waiters.borrow_mut();
        for _ in 0..n {
            if !waiters.grant_first(&mut later, |_| {}) {
                break;
            }
        }
        drop(waiters);
        later.run();
    }

    /// Wakes every waiter.
    pub fn notify_all(&self) {
        let mut later = Later::new();
        self.waiters.borrow_mut().grant_all(&mut later);
        later.run();
    }
    // ANCHOR_END: notify
}

impl Default for Condition {
    fn default() -> Condition {
        Condition::new()
    }
}

/// Waiting for a notify, in the condition's list.
struct Notified<'a> {
    condition: &'a Condition,
    key: Option<WaiterKey>,
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let mut later = Later::new();
        let mut waiters = this.condition.waiters.borrow_mut();
        let notified = match this.key {
            None => {
                this.key = Some(waiters.join(cx.waker(), None));
                false
            }
            Some(key) => waiters.poll_granted(key, cx.waker(), &mut later).is_some(),
        };
        drop(waiters);
        later.run();
        if notified {
            this.key = None;
            return Poll::Ready(());
        }
        observe::waiting_on(WaitRecord::CONDITION);
        Poll::Pending
    }
}

// ANCHOR: notified_drop
impl Drop for Notified<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            let mut later = Later::new();
            let mut waiters = self.condition.waiters.borrow_mut();
            if waiters.cancel(key, &mut later).is_some() {
                // Notified, then cancelled: the notify goes to the next one.
                waiters.grant_first(&mut later, |_| {});
            }
            drop(waiters);
            later.run();
        }
    }
}
// ANCHOR_END: notified_drop

impl<T: fmt::Debug> fmt::Debug for Lock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("Lock")
            .field("locked", &state.held)
            .field("waiters", &state.waiters.len())
            .finish_non_exhaustive()
    }
}

impl<T: fmt::Debug> fmt::Debug for LockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LockGuard").field(&**self).finish()
    }
}

impl<T> fmt::Debug for LockFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockFuture")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("waiters", &self.waiters.borrow().len())
            .finish()
    }
}

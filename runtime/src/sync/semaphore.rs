//! `Semaphore`: at most N holders at once, asyncio's `asyncio.Semaphore`.
//!
//! The count of free permits and a [`WaitList`] of tasks waiting for one.
//! A permit that is released goes straight to the oldest waiter if there is
//! one (so a task arriving later cannot grab it first), and back to the
//! count otherwise. A waiter dropped after it was handed a permit releases
//! it again, so no permit is ever lost to a cancelled `acquire`: `acquire`
//! is cancel-safe.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::waiters::{Later, WaitList, WaiterKey};
use crate::coop;
use crate::observe::{self, WaitRecord};

/// Limits how many tasks hold a permit at once. Clones share the permits.
///
/// ```
/// use runtime::sync::Semaphore;
/// runtime::block_on(async {
///     let sem = Semaphore::new(2);
///     let a = sem.acquire().await;
///     let _b = sem.acquire().await;
///     assert_eq!(sem.available_permits(), 0);
///     drop(a); // released on drop
///     assert_eq!(sem.available_permits(), 1);
/// });
/// ```
#[derive(Clone)]
pub struct Semaphore {
    inner: Rc<RefCell<State>>,
}

struct State {
    permits: usize,
    waiters: WaitList<()>,
}

// ANCHOR: release
impl State {
    /// A permit comes back: to the oldest waiter (woken by `later`, once
    /// the borrow ends), or to the count.
    fn release(&mut self, later: &mut Later<()>) {
        if !self.waiters.grant_first(later, |_| {}) {
            self.permits += 1;
        }
    }
}
// ANCHOR_END: release

impl Semaphore {
    /// A semaphore with `permits` permits.
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            inner: Rc::new(RefCell::new(State {
                permits,
                waiters: WaitList::new(),
            })),
        }
    }

    /// Waits for a permit. Tasks get permits in the order they asked.
    ///
    /// Cancel-safe: a permit handed to an `acquire` that is then dropped is
    /// passed on to the next waiter.
    pub fn acquire(&self) -> Acquire<'_> {
        Acquire {
            semaphore: self,
            key: None,
        }
    }

    // ANCHOR: try_acquire
    /// Takes a permit if one is free and nobody is waiting for one.
    pub fn try_acquire(&self) -> Option<SemaphorePermit> {
        let mut state = self.inner.borrow_mut();
        if state.permits > 0 && !state.waiters.has_waiting() {
            state.permits -= 1;
            Some(self.permit())
        } else {
            None
        }
    }
    // ANCHOR_END: try_acquire

    /// Permits free right now.
    pub fn available_permits(&self) -> usize {
        self.inner.borrow().permits
    }

    fn permit(&self) -> SemaphorePermit {
        SemaphorePermit {
            inner: self.inner.clone(),
        }
    }
}

/// A held permit; dropping it releases it.
pub struct SemaphorePermit {
    inner: Rc<RefCell<State>>,
}

impl Drop for SemaphorePermit {
    fn drop(&mut self) {
        let mut later = Later::new();
        self.inner.borrow_mut().release(&mut later);
        later.run();
    }
}

/// The future of [`Semaphore::acquire`].
#[must_use = "an Acquire does nothing unless awaited"]
pub struct Acquire<'a> {
    semaphore: &'a Semaphore,
    /// Our place in the wait list, once we had to wait.
    key: Option<WaiterKey>,
}

impl Future for Acquire<'_> {
    type Output = SemaphorePermit;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<SemaphorePermit> {
        coop::budgeted(cx, |cx| {
            let this = &mut *self;
            let mut later = Later::new();
            let mut state = this.semaphore.inner.borrow_mut();
            let State { permits, waiters } = &mut *state;
            // Granted in line: the releaser handed its permit to us.
            let take_if_free = || {
                let free = *permits > 0;
                if free {
                    *permits -= 1;
                }
                free
            };
            let granted = waiters.poll_acquire(&mut this.key, take_if_free, cx.waker(), &mut later);
            drop(state);
            later.run();
            if !granted {
                observe::waiting_on(WaitRecord::SEMAPHORE);
                return Poll::Pending;
            }
            Poll::Ready(this.semaphore.permit())
        })
    }
}

// ANCHOR: acquire_drop
impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            let mut later = Later::new();
            let mut state = self.semaphore.inner.borrow_mut();
            if state.waiters.cancel(key, &mut later).is_some() {
                state.release(&mut later); // we were handed a permit: pass it on
            }
            drop(state);
            later.run();
        }
    }
}
// ANCHOR_END: acquire_drop

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.borrow();
        f.debug_struct("Semaphore")
            .field("available_permits", &state.permits)
            .field("waiters", &state.waiters.len())
            .finish()
    }
}

impl fmt::Debug for SemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SemaphorePermit")
    }
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}

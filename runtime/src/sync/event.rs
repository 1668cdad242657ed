//! `Event`: a flag tasks can wait for, asyncio's `asyncio.Event`.
//!
//! `set` raises the flag and wakes every waiter; `clear` lowers it. A task
//! whose wait had begun when `set` was called finishes even if the flag is
//! cleared again before it runs, as in asyncio: it was granted by `set`.
//!
//! `wait` is cancel-safe: a dropped wait leaves the list at once (tokio's
//! `Notify` and asyncio's `Event.wait` behave the same way).

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::waiters::{Later, WaitList, WaiterKey};
use crate::coop;
use crate::observe::{self, WaitRecord};

/// A flag that tasks wait for. Clones share the flag.
///
/// ```
/// use runtime::sync::Event;
/// runtime::block_on(async {
///     let ready = Event::new();
///     let waiter = runtime::spawn({
///         let ready = ready.clone();
///         async move { ready.wait().await; "woken" }
///     });
///     runtime::yield_now().await;
///     ready.set();
///     assert_eq!(waiter.await.unwrap(), "woken");
/// });
/// ```
#[derive(Clone)]
pub struct Event {
    inner: Rc<RefCell<State>>,
}

struct State {
    is_set: bool,
    waiters: WaitList<()>,
}

impl Event {
    /// A new event, not set.
    pub fn new() -> Event {
        Event {
            inner: Rc::new(RefCell::new(State {
                is_set: false,
                waiters: WaitList::new(),
            })),
        }
    }

    // ANCHOR: set
    /// Raises the flag and wakes every task waiting for it.
    pub fn set(&self) {
        let mut later = Later::new();
        let mut state = self.inner.borrow_mut();
        state.is_set = true;
        state.waiters.grant_all(&mut later);
        drop(state);
        later.run(); // the wakes, after the borrow: a waker is user code
    }

    /// Lowers the flag: later `wait`s wait again.
    pub fn clear(&self) {
        self.inner.borrow_mut().is_set = false;
    }
    // ANCHOR_END: set

    /// Is the flag raised?
    pub fn is_set(&self) -> bool {
        self.inner.borrow().is_set
    }

    /// Waits until the flag is raised (at once, if it is). Cancel-safe.
    pub fn wait(&self) -> Wait<'_> {
        Wait {
            event: self,
            key: None,
        }
    }
}

impl Default for Event {
    fn default() -> Event {
        Event::new()
    }
}

/// The future of [`Event::wait`].
#[must_use = "a Wait does nothing unless awaited"]
pub struct Wait<'a> {
    event: &'a Event,
    key: Option<WaiterKey>,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        coop::budgeted(cx, |cx| {
            let this = &mut *self;
            let mut later = Later::new();
            let mut state = this.event.inner.borrow_mut();
            let done = match this.key {
                None => state.is_set,
                Some(key) => state
                    .waiters
                    .poll_granted(key, cx.waker(), &mut later)
                    .is_some(),
            };
            if done {
                this.key = None;
            } else if this.key.is_none() {
                this.key = Some(state.waiters.join(cx.waker(), None));
            }
            drop(state);
            later.run();
            if done {
                return Poll::Ready(());
            }
            observe::waiting_on(WaitRecord::EVENT);
            Poll::Pending
        })
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            // Every waiter is woken by `set`, so there is nothing to pass on.
            let mut later = Later::new();
            let _ = self
                .event
                .inner
                .borrow_mut()
                .waiters
                .cancel(key, &mut later);
            later.run();
        }
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.borrow();
        f.debug_struct("Event")
            .field("is_set", &state.is_set)
            .field("waiters", &state.waiters.len())
            .finish()
    }
}

impl fmt::Debug for Wait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}

//! `Event`: a flag tasks can wait for, asyncio's `asyncio.Event`.
//!
//! `set` raises the flag and wakes every waiter; `clear` lowers it. A task
//! whose wait had begun when `set` was called finishes even if the flag is
//! cleared again before it runs, as in asyncio: it was granted by `set`.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::waiters::{WaitList, WaiterKey};
use crate::inspect::{self, WaitRecord};

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
        let mut state = self.inner.borrow_mut();
        state.is_set = true;
        state.waiters.grant_all();
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

    /// Waits until the flag is raised (at once, if it is).
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
        let mut state = self.event.inner.borrow_mut();
        let done = match self.key {
            None => state.is_set,
            Some(key) => state.waiters.poll_granted(key, cx.waker()).is_some(),
        };
        if done {
            drop(state);
            self.key = None;
            return Poll::Ready(());
        }
        if self.key.is_none() {
            let key = state.waiters.join(cx.waker(), None);
            drop(state);
            self.key = Some(key);
        }
        inspect::waiting_on(WaitRecord::EVENT);
        Poll::Pending
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            // Every waiter is woken by `set`, so there is nothing to pass on.
            let _ = self.event.inner.borrow_mut().waiters.cancel(key);
        }
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("is_set", &self.is_set())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Wait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}

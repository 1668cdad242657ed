//! `Queue`: a FIFO between tasks, asyncio's `asyncio.Queue(maxsize)`.
//!
//! The items, and two [`WaitList`]s: tasks waiting to get (the queue was
//! empty) and tasks waiting to put (it was full). Fairness comes from
//! handing things over directly instead of letting waiters race:
//!
//! - a `put` while getters wait gives its item to the oldest getter;
//! - a `get` that frees a place admits the oldest putter, whose item goes
//!   into the queue (or to a getter) before the putter even runs again.
//!
//! So nobody who arrives later is served first, and a waiter woken for
//! nothing never exists. A getter dropped after it was handed an item (by
//! `timeout`, say) gives the item back to the front of the queue, or to the
//! next getter: nothing is lost, so `get` is cancel-safe. A `put` dropped
//! while it waits takes its item with it (dropped, after the queue's borrow
//! ends); one dropped after it was admitted already left its item inside.
//!
//! An item handed to a getter that has not run yet still counts as in the
//! queue, as in asyncio (where it sits in the queue until the getter takes
//! it): it counts in `len()` and takes up room, so the queue never holds
//! more than `maxsize`, even when that getter is cancelled and the item
//! comes back.
//!
//! A `Queue` is also a `futures_core::Stream` of its items, so
//! `while let Some(item) = queue.next().await` is asyncio's
//! `async for`-style consumer loop. The stream never ends by itself.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{ready, Context, Poll};

use super::waiters::{Later, WaitList, WaiterKey};
use crate::coop;
use crate::observe::{self, WaitRecord};

/// A first-in, first-out queue for tasks of one loop. Clones share one
/// queue, so a producer and a consumer each hold a clone.
///
/// ```
/// use runtime::sync::Queue;
/// runtime::block_on(async {
///     let queue = Queue::new(2); // at most 2 items; 0 would be unbounded
///     let producer = runtime::spawn({
///         let queue = queue.clone();
///         async move {
///             for i in 0..5 {
///                 queue.put(i).await; // waits while the queue is full
///             }
///         }
///     });
///     let mut got = Vec::new();
///     for _ in 0..5 {
///         got.push(queue.get().await); // waits while it is empty
///     }
///     producer.await.unwrap();
///     assert_eq!(got, [0, 1, 2, 3, 4]);
/// });
/// ```
pub struct Queue<T> {
    inner: Rc<RefCell<State<T>>>,
    /// This handle's `get` in progress as a `Stream`, if it had to wait.
    stream_get: Option<WaiterKey>,
}

struct State<T> {
    items: VecDeque<T>,
    /// 0: unbounded.
    maxsize: usize,
    /// Items handed to getters that have not collected them yet. They
    /// still count as in the queue (see the module docs).
    handed: usize,
    /// Items put and not yet marked done with `task_done` (asyncio's
    /// `_unfinished_tasks`), and the tasks waiting in `join` for it to be 0.
    unfinished: usize,
    joiners: WaitList<()>,
    getters: WaitList<T>,
    /// Each putter carries its item until it is admitted.
    putters: WaitList<T>,
}

impl<T> State<T> {
    /// Items in the queue: waiting in it, or handed to a getter that has
    /// not run yet.
    fn len(&self) -> usize {
        self.items.len() + self.handed
    }

    fn has_room(&self) -> bool {
        self.maxsize == 0 || self.len() < self.maxsize
    }

    // ANCHOR: deliver
    /// An item enters: to the oldest waiting getter, else to the back.
    fn deliver(&mut self, item: T, later: &mut Later<T>) {
        self.unfinished += 1;
        if self.getters.has_waiting() {
            self.getters.grant_first(later, |slot| *slot = Some(item));
            self.handed += 1;
        } else {
            self.items.push_back(item);
        }
    }

    /// An item left: let waiting putters in while there is room.
    fn admit_putters(&mut self, later: &mut Later<T>) {
        while self.has_room() && self.putters.has_waiting() {
            let mut item = None;
            self.putters.grant_first(later, |slot| item = slot.take());
            self.deliver(item.expect("a waiting putter carries its item"), later);
        }
    }
    // ANCHOR_END: deliver

    /// One step of a `get`: take an item, or join (or stay in) the line.
    fn poll_get(
        &mut self,
        key: &mut Option<WaiterKey>,
        cx: &mut Context<'_>,
        later: &mut Later<T>,
    ) -> Poll<T> {
        if let Some(k) = *key {
            let Some(item) = self.getters.poll_granted(k, cx.waker(), later) else {
                observe::waiting_on(WaitRecord::QUEUE_GET);
                return Poll::Pending;
            };
            *key = None;
            self.handed -= 1;
            self.admit_putters(later); // our item left the queue: room
            return Poll::Ready(item.expect("a granted getter holds its item"));
        }
        match self.items.pop_front() {
            // Items wait only when no getter does, so taking one is fair.
            Some(item) => {
                self.admit_putters(later);
                Poll::Ready(item)
            }
            None => {
                *key = Some(self.getters.join(cx.waker(), None));
                observe::waiting_on(WaitRecord::QUEUE_GET);
                Poll::Pending
            }
        }
    }

    // ANCHOR: cancel_get
    /// A `get` was dropped while in line. If it had been handed an item,
    /// the item goes to the next getter or back to the front. Either way it
    /// was counted in the queue and still is, so there is room for no more.
    fn cancel_get(&mut self, key: WaiterKey, later: &mut Later<T>) {
        if let Some(Some(item)) = self.getters.cancel(key, later) {
            self.handed -= 1;
            if self.getters.has_waiting() {
                self.getters.grant_first(later, |slot| *slot = Some(item));
                self.handed += 1;
            } else {
                self.items.push_front(item);
            }
        }
    }
    // ANCHOR_END: cancel_get

    // ANCHOR: with
    /// Runs `f` on the state, then (after the borrow ends) the wakes and
    /// drops it left for later.
    fn with<R>(cell: &RefCell<State<T>>, f: impl FnOnce(&mut State<T>, &mut Later<T>) -> R) -> R {
        let mut later = Later::new();
        let result = f(&mut cell.borrow_mut(), &mut later);
        later.run();
        result
    }
    // ANCHOR_END: with
}

impl<T> Queue<T> {
    /// A queue of at most `maxsize` items; `0` means no limit.
    pub fn new(maxsize: usize) -> Queue<T> {
        Queue {
            inner: Rc::new(RefCell::new(State {
                items: VecDeque::new(),
                maxsize,
                handed: 0,
                unfinished: 0,
                joiners: WaitList::new(),
                getters: WaitList::new(),
                putters: WaitList::new(),
            })),
            stream_get: None,
        }
    }

    /// Adds `item` at the back, waiting while the queue is full. Putters
    /// waiting on a full queue get in in the order they came.
    ///
    /// Cancel-safe in tokio's sense for the queue, not for the item: a `put`
    /// dropped while it waits takes its item with it (dropped); one dropped
    /// after it was admitted left its item in the queue.
    pub fn put(&self, item: T) -> Put<'_, T> {
        Put {
            queue: self,
            item: Some(item),
            key: None,
        }
    }

    /// Takes the item at the front, waiting while the queue is empty.
    /// Getters waiting on an empty queue are served in the order they came.
    ///
    /// Cancel-safe: an item handed to a `get` that is then dropped goes to
    /// the next getter, or back to the front of the queue.
    pub fn get(&self) -> Get<'_, T> {
        Get {
            queue: self,
            key: None,
        }
    }

    /// Adds `item` now if there is room (and no putter is waiting), or
    /// gives it back.
    pub fn try_put(&self, item: T) -> Result<(), T> {
        State::with(&self.inner, |state, later| {
            if state.has_room() && !state.putters.has_waiting() {
                state.deliver(item, later);
                Ok(())
            } else {
                Err(item)
            }
        })
    }

    /// Takes the front item now, if there is one.
    pub fn try_get(&self) -> Option<T> {
        State::with(&self.inner, |state, later| {
            let item = state.items.pop_front()?;
            state.admit_putters(later);
            Some(item)
        })
    }

    // ANCHOR: task_done
    /// Marks one item that was taken out as processed: asyncio's
    /// `Queue.task_done()`. When every item put has been marked, the tasks
    /// waiting in [`Queue::join`] go on.
    ///
    /// # Panics
    ///
    /// If called more times than items were put (asyncio raises
    /// `ValueError`): call it once per item taken, after handling it.
    pub fn task_done(&self) {
        let mut state = self.inner.borrow_mut();
        assert!(
            state.unfinished > 0,
            "Queue::task_done() was called more times than items were put: \
             call it once for each item you took, when you are done with it"
        );
        state.unfinished -= 1;
        let mut wakes: Later<()> = Later::new();
        if state.unfinished == 0 {
            state.joiners.grant_all(&mut wakes);
        }
        drop(state);
        wakes.run();
    }
    // ANCHOR_END: task_done

    /// Waits until every item put has been marked done with
    /// [`Queue::task_done`]: asyncio's `await queue.join()`. Ready at once if
    /// nothing is unfinished. Cancel-safe.
    pub fn join(&self) -> Join<'_, T> {
        Join {
            queue: self,
            key: None,
        }
    }

    /// Items in the queue now: asyncio's `qsize()`. An item already handed
    /// to a getter that has not run yet still counts.
    pub fn len(&self) -> usize {
        self.inner.borrow().len()
    }

    /// True if the queue holds no item.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most items it holds; 0 for unbounded.
    pub fn maxsize(&self) -> usize {
        self.inner.borrow().maxsize
    }
}

impl<T> Clone for Queue<T> {
    /// Another handle to the same queue.
    fn clone(&self) -> Queue<T> {
        Queue {
            inner: self.inner.clone(),
            stream_get: None, // a clone has no get of its own in progress
        }
    }
}

impl<T> Drop for Queue<T> {
    fn drop(&mut self) {
        if let Some(key) = self.stream_get.take() {
            State::with(&self.inner, |state, later| state.cancel_get(key, later));
        }
    }
}

/// `async for item in queue`: each `next()` is a `get()`. Never ends.
impl<T> futures_core::Stream for Queue<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        let item = ready!(coop::budgeted(cx, |cx| {
            let key = &mut this.stream_get;
            State::with(&this.inner, |state, later| state.poll_get(key, cx, later))
        }));
        Poll::Ready(Some(item))
    }
}

/// The future of [`Queue::put`].
#[must_use = "a Put does nothing unless awaited"]
pub struct Put<'a, T> {
    queue: &'a Queue<T>,
    /// The item, until it is handed to the queue or to the wait list.
    item: Option<T>,
    key: Option<WaiterKey>,
}

impl<T> Future for Put<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        coop::budgeted(cx, |cx| {
            State::with(&this.queue.inner, |state, later| {
                if let Some(key) = this.key {
                    if state.putters.poll_granted(key, cx.waker(), later).is_none() {
                        observe::waiting_on(WaitRecord::QUEUE_PUT);
                        return Poll::Pending;
                    }
                    this.key = None; // admitted: our item is in
                    return Poll::Ready(());
                }
                let item = this.item.take().expect("Put polled after it finished");
                if state.has_room() && !state.putters.has_waiting() {
                    state.deliver(item, later);
                    Poll::Ready(())
                } else {
                    this.key = Some(state.putters.join(cx.waker(), Some(item)));
                    observe::waiting_on(WaitRecord::QUEUE_PUT);
                    Poll::Pending
                }
            })
        })
    }
}

/// A `Put` holds its item by value and never pins it, so moving a `Put`
/// is fine whatever `T` is.
impl<T> Unpin for Put<'_, T> {}

impl<T> Drop for Put<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            // Waiting: our item leaves with us, dropped after the borrow
            // (its `Drop` may use this very queue). Admitted: it is in.
            State::with(&self.queue.inner, |state, later| {
                let _ = state.putters.cancel(key, later);
            });
        }
    }
}

// ANCHOR: get_future
/// The future of [`Queue::get`].
#[must_use = "a Get does nothing unless awaited"]
pub struct Get<'a, T> {
    queue: &'a Queue<T>,
    key: Option<WaiterKey>,
}

impl<T> Future for Get<'_, T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = &mut *self;
        coop::budgeted(cx, |cx| {
            State::with(&this.queue.inner, |state, later| {
                state.poll_get(&mut this.key, cx, later)
            })
        })
    }
}

impl<T> Drop for Get<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            State::with(&self.queue.inner, |state, later| {
                state.cancel_get(key, later)
            });
        }
    }
}
// ANCHOR_END: get_future

/// The future of [`Queue::join`].
#[must_use = "a Join does nothing unless awaited"]
pub struct Join<'a, T> {
    queue: &'a Queue<T>,
    key: Option<WaiterKey>,
}

impl<T> Future for Join<'_, T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        coop::budgeted(cx, |cx| {
            let mut later: Later<()> = Later::new();
            let mut state = this.queue.inner.borrow_mut();
            let done = match this.key {
                None if state.unfinished == 0 => true,
                None => {
                    this.key = Some(state.joiners.join(cx.waker(), None));
                    false
                }
                Some(key) => state
                    .joiners
                    .poll_granted(key, cx.waker(), &mut later)
                    .is_some(),
            };
            drop(state);
            later.run();
            if done {
                this.key = None;
                return Poll::Ready(());
            }
            observe::waiting_on(WaitRecord::QUEUE_JOIN);
            Poll::Pending
        })
    }
}

impl<T> Drop for Join<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            let mut later: Later<()> = Later::new();
            let _ = self
                .queue
                .inner
                .borrow_mut()
                .joiners
                .cancel(key, &mut later);
            later.run();
        }
    }
}

impl<T> fmt::Debug for Join<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Join")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.borrow();
        f.debug_struct("Queue")
            .field("len", &state.len())
            .field("maxsize", &state.maxsize)
            .field("getters", &state.getters.len())
            .field("putters", &state.putters.len())
            .finish()
    }
}

impl<T> fmt::Debug for Put<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Put")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}

impl<T> fmt::Debug for Get<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Get")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}

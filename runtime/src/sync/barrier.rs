//! `Barrier`: asyncio's `asyncio.Barrier`. A round ends when `parties`
//! tasks have arrived in `wait`; then all of them go on, and the barrier is
//! ready for the next round.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::waiters::{Later, WaitList, WaiterKey};
use crate::coop;
use crate::observe::{self, WaitRecord};

/// Waits until `parties` tasks are waiting, then lets them all go.
/// Reusable: the next `parties` arrivals make the next round.
///
/// ```
/// use std::rc::Rc;
/// use runtime::sync::Barrier;
/// runtime::block_on(async {
///     let barrier = Rc::new(Barrier::new(3));
///     let tasks: Vec<_> = (0..3)
///         .map(|_| {
///             let barrier = barrier.clone();
///             runtime::spawn(async move { barrier.wait().await })
///         })
///         .collect();
///     let mut indices = Vec::new();
///     for task in tasks {
///         indices.push(task.await.unwrap());
///     }
///     indices.sort();
///     assert_eq!(indices, [0, 1, 2]); // each arrival's place in its round
/// });
/// ```
pub struct Barrier {
    state: RefCell<State>,
}

struct State {
    parties: usize,
    /// Arrivals in the current round.
    arrived: usize,
    waiters: WaitList<()>,
}

impl Barrier {
    /// A barrier for `parties` tasks a round.
    ///
    /// # Panics
    ///
    /// If `parties` is 0: a round of nobody never ends, so there is no use
    /// for it.
    pub fn new(parties: usize) -> Barrier {
        assert!(
            parties > 0,
            "Barrier::new(0): a barrier needs at least one party"
        );
        Barrier {
            state: RefCell::new(State {
                parties,
                arrived: 0,
                waiters: WaitList::new(),
            }),
        }
    }

    /// Arrives, and waits for the round to fill. Gives this task's place
    /// in its round: 0 for the first to arrive, `parties - 1` for the last.
    ///
    /// A `wait` dropped before its round filled leaves the round (one fewer
    /// has arrived); one dropped after has nothing to pass on.
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            barrier: self,
            arrival: None,
        }
    }

    /// The number of tasks a round needs.
    pub fn parties(&self) -> usize {
        self.state.borrow().parties
    }
}

/// The future of [`Barrier::wait`].
#[must_use = "a BarrierWait does nothing unless awaited"]
pub struct BarrierWait<'a> {
    barrier: &'a Barrier,
    /// Our place in the round and in the wait list, once we arrived.
    arrival: Option<(usize, Option<WaiterKey>)>,
}

// ANCHOR: barrier_poll
impl Future for BarrierWait<'_> {
    type Output = usize;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        coop::budgeted(cx, |cx| {
            let this = &mut *self;
            let mut later = Later::new();
            let mut state = this.barrier.state.borrow_mut();
            let done = match this.arrival {
                None => {
                    let index = state.arrived;
                    state.arrived += 1;
                    if state.arrived == state.parties {
                        // The last arrival ends the round: everyone goes.
                        state.arrived = 0;
                        state.waiters.grant_all(&mut later);
                        Some(index)
                    } else {
                        this.arrival = Some((index, Some(state.waiters.join(cx.waker(), None))));
                        None
                    }
                }
                Some((index, Some(key))) => state
                    .waiters
                    .poll_granted(key, cx.waker(), &mut later)
                    .map(|_| index),
                Some((index, None)) => Some(index),
            };
            drop(state);
            later.run();
            match done {
                Some(index) => {
                    this.arrival = None;
                    Poll::Ready(index)
                }
                None => {
                    observe::waiting_on(WaitRecord::BARRIER);
                    Poll::Pending
                }
            }
        })
    }
}
// ANCHOR_END: barrier_poll

// ANCHOR: barrier_drop
impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        if let Some((_, Some(key))) = self.arrival {
            let mut later = Later::new();
            let mut state = self.barrier.state.borrow_mut();
            if state.waiters.cancel(key, &mut later).is_none() {
                // Still waiting: this round has one arrival fewer.
                state.arrived -= 1;
            }
            drop(state);
            later.run();
        }
    }
}
// ANCHOR_END: barrier_drop

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("Barrier")
            .field("parties", &state.parties)
            .field("arrived", &state.arrived)
            .field("waiters", &state.waiters.len())
            .finish()
    }
}

impl fmt::Debug for BarrierWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierWait")
            .field("arrived", &self.arrival.is_some())
            .finish()
    }
}

//! Racing: asyncio's `wait(return_when=FIRST_COMPLETED)` and
//! `as_completed`, in Rust shapes.
//!
//! - [`race`]`(a, b)`: two futures of different types; the first to finish
//!   wins, as [`Either`]. The loser is dropped, which in Rust *is*
//!   cancelling it: it never runs again, only its destructors do.
//! - [`first`]`(futures)`: many futures of one type; the index and output of
//!   the first to finish. The rest are dropped.
//! - [`as_completed`]`(futures)`: a `Stream` of every output, in the order
//!   they finish. Dropping the stream drops the futures still running.
//!
//! Like `gather`, the futures run inside the caller's task, and `first` and
//! `as_completed` poll only the children that were woken (the bookkeeping of
//! `gather.rs`): n futures each woken k times cost O(n·k) polls, never
//! O(n²). None of them allocates per poll or per item; `first` and
//! `as_completed` allocate once, when they start, for their children.
//!
//! What "dropped" means for a `JoinHandle`: racing a `JoinHandle` and
//! losing drops the handle, which *detaches* its task (it runs on; see
//! `JoinHandle`). To stop the task too, `abort` it.

use std::future::{poll_fn, Future};
use std::ops::ControlFlow;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};

use crate::gather::Children;

/// One of two values: which future of a [`race`] won, and its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Either<A, B> {
    /// The first future (`a`) finished first.
    Left(A),
    /// The second future (`b`) finished first.
    Right(B),
}

// ANCHOR: race
/// Runs `a` and `b` concurrently and returns the output of the first to
/// finish; the other is dropped (cancelled). When both are ready at the same
/// poll, `a` wins: they are polled in order, `a` first.
///
/// asyncio's `wait({a, b}, return_when=FIRST_COMPLETED)`, without the
/// pending set to cancel by hand.
///
/// ```
/// use std::time::Duration;
/// use runtime::{race, Either};
/// runtime::block_on(async {
///     let slow = runtime::time::sleep(Duration::from_secs(60));
///     let quick = async { "quick" };
///     assert_eq!(race(slow, quick).await, Either::Right("quick"));
/// });
/// ```
pub async fn race<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let mut a = pin!(a);
    let mut b = pin!(b);
    poll_fn(|cx| {
        if let Poll::Ready(output) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(output));
        }
        if let Poll::Ready(output) = b.as_mut().poll(cx) {
            return Poll::Ready(Either::Right(output));
        }
        Poll::Pending
    })
    .await
    // Both are dropped here, when this future completes: the loser is
    // cancelled, in place.
}
// ANCHOR_END: race

/// Runs all `futures` concurrently and returns the index and output of the
/// first to finish; the others are dropped (cancelled). Among futures that
/// finish in the same round, the one woken first wins.
///
/// # Panics
///
/// If `futures` is empty: there is no first of nothing.
///
/// ```
/// use std::time::Duration;
/// runtime::block_on(async {
///     let delays = [30, 10, 20];
///     let mirrors = delays.map(|ms| async move {
///         runtime::time::sleep(Duration::from_millis(ms)).await;
///         ms
///     });
///     assert_eq!(runtime::first(mirrors).await, (1, 10));
/// });
/// ```
// ANCHOR: first
pub async fn first<I>(futures: I) -> (usize, <I::Item as Future>::Output)
where
    I: IntoIterator,
    I::Item: Future,
{
    let mut children = Children::new(futures);
    assert!(
        children.pending > 0,
        "runtime::first was given no futures: there is no first of nothing"
    );
    poll_fn(|cx| {
        let won = children.poll_woken(cx, |index, child| {
            ControlFlow::Break((index, child.take_output()))
        });
        match won {
            ControlFlow::Break(won) => Poll::Ready(won),
            ControlFlow::Continue(()) => {
                children.records.publish(children.pending);
                Poll::Pending
            }
        }
    })
    .await
}
// ANCHOR_END: first

/// The outputs of `futures` as a `Stream`, in the order they finish:
/// asyncio's `for f in as_completed(aws): r = await f`.
///
/// ```
/// use std::time::Duration;
/// use runtime::stream::StreamExt;
/// runtime::block_on(async {
///     let jobs = [30u64, 10, 20].map(|ms| async move {
///         runtime::time::sleep(Duration::from_millis(ms)).await;
///         ms
///     });
///     let mut done = runtime::as_completed(jobs);
///     let mut order = Vec::new();
///     while let Some(ms) = done.next().await {
///         order.push(ms);
///     }
///     assert_eq!(order, [10, 20, 30]);
/// });
/// ```
pub fn as_completed<I>(futures: I) -> AsCompleted<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    AsCompleted {
        children: Children::new(futures),
    }
}

/// The stream of [`as_completed`]. Dropping it drops (cancels) the futures
/// that have not finished.
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<F: Future> {
    children: Children<F>,
}

// ANCHOR: as_completed
impl<F: Future> futures_core::Stream for AsCompleted<F> {
    type Item = F::Output;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        // `Children` keeps its futures in a pinned heap slice of its own, so
        // the struct itself may move: it is `Unpin`.
        let children = &mut self.get_mut().children;
        if children.pending == 0 {
            return Poll::Ready(None); // every output was handed out
        }
        // One output a call: stop the round at the first child that
        // finishes; the rest of the round waits for the next call.
        let next = children.poll_woken(cx, |_, child| ControlFlow::Break(child.take_output()));
        match next {
            ControlFlow::Break(output) => Poll::Ready(Some(output)),
            ControlFlow::Continue(()) if children.pending == 0 => Poll::Ready(None),
            ControlFlow::Continue(()) => {
                children.records.publish(children.pending);
                Poll::Pending
            }
        }
    }
}
// ANCHOR_END: as_completed

impl<F: Future> std::fmt::Debug for AsCompleted<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsCompleted")
            .field("pending", &self.children.pending)
            .finish()
    }
}

//! `gather`: run many futures concurrently inside one task, Python's
//! `asyncio.gather(*aws)`.
//!
//! The naive way polls every child each time the gathering task wakes. With
//! n children each woken once, that is n wakes of the parent times n polls:
//! O(n²). Here every child gets its own waker ([`ChildWakers`]): waking it
//! records the child's index in a list and then wakes the parent, and the
//! parent polls only the children on that list. n children each woken k
//! times cost O(n·k) polls.
//!
//! The same bookkeeping serves all three forms: [`gather`] (a `Vec` out),
//! [`try_gather`] (stop at the first `Err`) and the [`gather!`](crate::gather!)
//! macro (futures of different types, a tuple out).

use std::future::{poll_fn, Future};
use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use futures_task::ArcWake;
use pin_project_lite::pin_project;

use crate::coop;
use crate::observe::ChildRecords;
use crate::shim::{lock, AtomicBool, Mutex, Ordering};

/// Runs all `futures` concurrently inside the calling task and returns their
/// outputs in input order.
///
/// ```
/// runtime::block_on(async {
///     let squares = runtime::gather((1..=3).map(|n| async move { n * n })).await;
///     assert_eq!(squares, vec![1, 4, 9]);
/// });
/// ```
pub async fn gather<I>(futures: I) -> Vec<<I::Item as Future>::Output>
where
    I: IntoIterator,
    I::Item: Future,
{
    let mut children = Children::new(futures);
    poll_fn(|cx| {
        let _ = children.poll_woken(cx, |_, _| ControlFlow::<()>::Continue(()));
        if children.pending > 0 {
            children.records.publish(children.pending);
            return Poll::Pending;
        }
        Poll::Ready(children.take_outputs().collect())
    })
    .await
}

/// Like [`gather`] for futures that return `Result`: gives `Ok` with every
/// value in input order, or the first `Err` as soon as it happens. The
/// futures still pending are then dropped (cancelled), as in an asyncio
/// `TaskGroup` when one task fails.
///
/// ```
/// runtime::block_on(async {
///     let fetch = |n: u32| async move { if n == 2 { Err(format!("{n} failed")) } else { Ok(n) } };
///     let all = runtime::try_gather((1..=3).map(fetch)).await;
///     assert_eq!(all, Err("2 failed".to_string()));
/// });
/// ```
pub async fn try_gather<I, T, E>(futures: I) -> Result<Vec<T>, E>
where
    I: IntoIterator,
    I::Item: Future<Output = Result<T, E>>,
{
    let mut children = Children::new(futures);
    poll_fn(|cx| {
        let first_error = children.poll_woken(cx, |_, child| match child.output() {
            Some(Err(_)) => match child.take_output() {
                Err(e) => ControlFlow::Break(e),
                Ok(_) => unreachable!("the output was just seen to be an Err"),
            },
            _ => ControlFlow::Continue(()),
        });
        if let ControlFlow::Break(e) = first_error {
            return Poll::Ready(Err(e));
        }
        if children.pending > 0 {
            children.records.publish(children.pending);
            return Poll::Pending;
        }
        let values = children.take_outputs().map(|output| match output {
            Ok(value) => value,
            Err(_) => unreachable!("an Err would have returned early"),
        });
        Poll::Ready(Ok(values.collect()))
    })
    .await
}

/// The children of a `gather` or `try_gather` (and of `first` and
/// `as_completed`, in `race.rs`), and which of them to poll.
pub(crate) struct Children<F: Future> {
    /// Pinned in one heap slice that never grows or moves.
    futures: Pin<Box<[MaybeDone<F>]>>,
    wakers: ChildWakers,
    /// The current round: the indices woken before it began (kept between
    /// rounds, to avoid an allocation per poll), and the next to look at.
    woken: Vec<usize>,
    next: usize,
    /// How many children have not finished yet.
    pub(crate) pending: usize,
    /// What each child waits on, for `tasks()`.
    pub(crate) records: ChildRecords,
}

impl<F: Future> Children<F> {
    pub(crate) fn new(futures: impl IntoIterator<Item = F>) -> Self {
        let futures: Box<[MaybeDone<F>]> = futures.into_iter().map(MaybeDone::new).collect();
        let n = futures.len();
        Children {
            futures: Box::into_pin(futures),
            wakers: ChildWakers::new(n),
            woken: Vec::new(),
            next: 0,
            pending: n,
            records: ChildRecords::new(n),
        }
    }

    // ANCHOR: poll_woken
    /// Polls the children woken since the last round, and passes each one
    /// that finishes (with its index) to `on_ready`, which may stop by
    /// returning `Break`. A round left unfinished (by a `Break`, or because
    /// the task's budget ran out) is carried on at the next call, from where
    /// it stopped: `as_completed` takes one output a call, and nothing is
    /// copied or polled twice.
    pub(crate) fn poll_woken<B>(
        &mut self,
        cx: &mut Context<'_>,
        mut on_ready: impl FnMut(usize, Pin<&mut MaybeDone<F>>) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        if self.next < self.woken.len() {
            self.wakers.set_parent(cx); // carry on with the last round
        } else {
            self.wakers.take_woken(cx, &mut self.woken);
            self.next = 0;
        }
        while let Some(&index) = self.woken.get(self.next) {
            if coop::is_spent() {
                // The task's budget ran out (see `coop.rs`). Polling more
                // children would only have each of them yield at once,
                // O(n) a round and O(n^2) in all: the task polls us again
                // soon, and the round goes on from here.
                cx.waker().wake_by_ref();
                return ControlFlow::Continue(());
            }
            self.next += 1;
            // ANCHOR: pinned_slice
            // SAFETY: `futures` is a pinned slice, and indexing it moves no
            // element: each element stays at its place in the heap slice
            // until the slice is dropped, which is what pinning it requires.
            let mut child = unsafe { self.futures.as_mut().map_unchecked_mut(|s| &mut s[index]) };
            // ANCHOR_END: pinned_slice
            if !self.wakers.claim(index) {
                continue;
            }
            let waker = self.wakers.waker(index);
            if self
                .records
                .poll(index, || child.as_mut().poll_child(waker))
            {
                self.pending -= 1;
                if let ControlFlow::Break(b) = on_ready(index, child) {
                    return ControlFlow::Break(b);
                }
            }
        }
        // The round is done. A child woken while a round was carried on
        // woke the parent then, and that wake was spent carrying the round
        // on: nothing will wake us for it again. So if any child is
        // waiting for the next round, ask for the poll that starts it.
        if self.wakers.any_woken() {
            cx.waker().wake_by_ref();
        }
        ControlFlow::Continue(())
    }
    // ANCHOR_END: poll_woken

    /// Every child's output, in input order. Only once all have finished.
    fn take_outputs(&mut self) -> impl Iterator<Item = F::Output> + '_ {
        let n = self.futures.len();
        (0..n).map(move |index| {
            // SAFETY: as in `poll_woken`: indexing a pinned slice moves nothing.
            let child = unsafe { self.futures.as_mut().map_unchecked_mut(|s| &mut s[index]) };
            child.take_output()
        })
    }
}

pin_project! {
    /// One child of a gather: its future until it finishes, then its output.
    #[doc(hidden)]
    pub struct MaybeDone<F: Future> {
        #[pin]
        future: Option<F>,
        output: Option<F::Output>,
    }
}

impl<F: Future> MaybeDone<F> {
    #[doc(hidden)]
    pub fn new(future: F) -> Self {
        MaybeDone {
            future: Some(future),
            output: None,
        }
    }

    /// Polls the future with the child's own waker, if it has not finished.
    /// Returns true when this poll finished it.
    #[doc(hidden)]
    pub fn poll_child(self: Pin<&mut Self>, waker: &Waker) -> bool {
        let mut this = self.project();
        let Some(future) = this.future.as_mut().as_pin_mut() else {
            return false;
        };
        match future.poll(&mut Context::from_waker(waker)) {
            Poll::Pending => false,
            Poll::Ready(output) => {
                // Drop the finished future in place, as soon as it is done.
                this.future.set(None);
                *this.output = Some(output);
                true
            }
        }
    }

    #[doc(hidden)]
    pub fn is_done(&self) -> bool {
        self.future.is_none()
    }

    fn output(&self) -> Option<&F::Output> {
        self.output.as_ref()
    }

    #[doc(hidden)]
    pub fn take_output(self: Pin<&mut Self>) -> F::Output {
        self.project()
            .output
            .take()
            .expect("a gathered future's output is taken once, after it finished")
    }
}

// ANCHOR: child_wakers
/// One waker per child. Waking child `i` puts `i` on a list (once, however
/// often it is woken) and wakes the parent task; the parent then polls just
/// the children on the list.
#[doc(hidden)]
pub struct ChildWakers {
    list: Arc<WokenList>,
    wakers: Box<[Waker]>,
}

struct WokenList {
    /// `woken[i]`: child `i` is on the list and will be polled. Set by its
    /// waker (any thread), cleared by the parent just before polling it, so
    /// a wake during that poll puts it on the list again.
    woken: Box<[AtomicBool]>,
    inner: Mutex<WokenInner>,
}

struct WokenInner {
    indices: Vec<usize>,
    /// The parent task's waker, from its latest poll. This is a reference
    /// cycle (the parent's future owns this list), broken when the loop
    /// drops the parent's future: on completion, on abort, or at shutdown.
    parent: Option<Waker>,
}

/// The waker of child `index`: a pointer to the shared list and an index.
struct ChildWaker {
    list: Arc<WokenList>,
    index: usize,
}

impl ArcWake for ChildWaker {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        let list = &arc_self.list;
        // AcqRel: Release publishes what the waker did before waking to the
        // parent's `claim`, whose Acquire swap pairs with this one.
        if list.woken[arc_self.index].swap(true, Ordering::AcqRel) {
            return; // already on the list
        }
        let parent = {
            let mut inner = lock(&list.inner);
            inner.indices.push(arc_self.index);
            inner.parent.clone()
        };
        // Wake outside the lock: never block or re-enter inside a wake.
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

impl std::fmt::Debug for ChildWakers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildWakers")
            .field("children", &self.wakers.len())
            .finish_non_exhaustive()
    }
}

impl ChildWakers {
    /// Wakers for `n` children, all of them initially woken (each child is
    /// polled once at the start).
    #[doc(hidden)]
    pub fn new(n: usize) -> ChildWakers {
        let list = Arc::new(WokenList {
            woken: (0..n).map(|_| AtomicBool::new(true)).collect(),
            inner: Mutex::new(WokenInner {
                indices: (0..n).collect(),
                parent: None,
            }),
        });
        let wakers = (0..n)
            .map(|index| {
                let list = list.clone();
                futures_task::waker(Arc::new(ChildWaker { list, index }))
            })
            .collect();
        ChildWakers { list, wakers }
    }

    /// Remembers the parent's waker and moves the list of children woken
    /// since the last call into `into` (which it clears first).
    #[doc(hidden)]
    pub fn take_woken(&self, cx: &Context<'_>, into: &mut Vec<usize>) {
        into.clear();
        let mut inner = lock(&self.list.inner);
        match &inner.parent {
            Some(parent) if parent.will_wake(cx.waker()) => {}
            _ => inner.parent = Some(cx.waker().clone()),
        }
        std::mem::swap(&mut inner.indices, into);
    }

    /// Remembers the parent's latest waker, for a parent that carries on
    /// with a round it began earlier.
    pub(crate) fn set_parent(&self, cx: &Context<'_>) {
        let mut inner = lock(&self.list.inner);
        match &inner.parent {
            Some(parent) if parent.will_wake(cx.waker()) => {}
            _ => inner.parent = Some(cx.waker().clone()),
        }
    }

    /// Is any child on the list, waiting for the next round?
    pub(crate) fn any_woken(&self) -> bool {
        !lock(&self.list.inner).indices.is_empty()
    }

    /// Takes child `index` off the list: true if it was woken since it was
    /// last polled, and so should be polled now.
    #[doc(hidden)]
    pub fn claim(&self, index: usize) -> bool {
        self.list.woken[index].swap(false, Ordering::AcqRel)
    }

    #[doc(hidden)]
    pub fn waker(&self, index: usize) -> &Waker {
        &self.wakers[index]
    }
}
// ANCHOR_END: child_wakers

/// Runs futures of different types concurrently inside the calling task and
/// gives their outputs as a tuple, in the order written.
///
/// ```
/// runtime::block_on(async {
///     let (n, s) = runtime::gather!(async { 1 }, async { "two" }).await;
///     assert_eq!((n, s), (1, "two"));
/// });
/// ```
///
/// Takes any number of futures. (For many of one type, a `Vec` and
/// [`gather`](crate::gather()) read better.)
#[macro_export]
macro_rules! gather {
    ($($future:expr),+ $(,)?) => {
        $crate::__gather!(@skips [] [] $($future,)+)
    };
}

/// The body of `gather!`. A macro cannot invent variable names, so the
/// futures live in one tuple, and each one is reached by its position: the
/// first pass gives every future a list of `_`, one per future before it,
/// which the second pass turns into a pattern, `(_, _, child, ..)`.
#[doc(hidden)]
#[macro_export]
macro_rules! __gather {
    // ANCHOR: gather_macro
    (@skips [$($skip:tt)*] [$($done:tt)*] $head:expr, $($tail:expr,)*) => {
        $crate::__gather!(@skips [$($skip)* _] [$($done)* ([$($skip)*] $head)] $($tail,)*)
    };
    (@skips [$($all:tt)*] [$(([$($skip:tt)*] $future:expr))+]) => {
        async {
            // Each future pinned where it stands, in one tuple on this frame.
            let mut futures = ($(
                ::core::pin::pin!($crate::__private::MaybeDone::new($future)),
            )+);
            let count = [$($crate::__gather!(@one $future)),+].len();
            let wakers = $crate::__private::ChildWakers::new(count);
            let mut records = $crate::__private::ChildRecords::new(count);
            let mut woken = ::std::vec::Vec::new();
            ::core::future::poll_fn(|cx| {
                wakers.take_woken(cx, &mut woken);
                let mut index = 0;
                let mut pending = 0;
                $({
                    let ($($skip,)* child, ..) = &mut futures;
                    if wakers.claim(index) {
                        records.poll(index, || child.as_mut().poll_child(wakers.waker(index)));
                    }
                    pending += usize::from(!child.is_done());
                    index += 1;
                })+
                let _ = index;
                // ANCHOR_END: gather_macro
                if pending > 0 {
                    records.publish(pending);
                    return ::core::task::Poll::Pending;
                }
                ::core::task::Poll::Ready(($({
                    let ($($skip,)* child, ..) = &mut futures;
                    child.as_mut().take_output()
                },)+))
            })
            .await
        }
    };
    (@one $future:expr) => {
        1
    };
}

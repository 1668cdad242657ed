//! `TaskGroup`: asyncio 3.11's `TaskGroup`, and tokio's `JoinSet`.
//!
//! A group owns the tasks spawned into it. They are real tasks (each one a
//! `spawn`), so they run whether or not anyone is waiting on the group;
//! the group keeps their `JoinHandle`s and hands out their results in the
//! order they finish ([`TaskGroup::join_next`]), or all at once with the
//! first failure cancelling the rest ([`TaskGroup::try_join_all`]).
//!
//! # Knowing which task finished, in O(1)
//!
//! Polling every handle to find the one that finished would cost O(n) per
//! result. Instead each task carries a small guard: when its future ends,
//! by returning, panicking or being aborted, the guard's `Drop` puts the
//! task's key on the group's `finished` list and wakes whoever waits in
//! `join_next`. So `join_next` only ever polls a handle it knows is done.
//!
//! Dropping the group aborts every task still in it, as tokio's `JoinSet`
//! does (and as leaving an asyncio `TaskGroup` block after a failure
//! cancels the rest).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use slab::Slab;

use crate::error::JoinError;
use crate::executor::spawn;
use crate::join::JoinHandle;

/// A set of tasks whose results are taken together. See the module docs.
///
/// ```
/// use runtime::TaskGroup;
/// runtime::block_on(async {
///     let mut group = TaskGroup::new();
///     for n in 1..=3u32 {
///         group.spawn(async move { n * 10 });
///     }
///     let mut total = 0;
///     while let Some(result) = group.join_next().await {
///         total += result.unwrap();
///     }
///     assert_eq!(total, 60);
/// });
/// ```
pub struct TaskGroup<T> {
    /// The tasks not joined yet, with the order they were spawned in.
    members: Slab<Member<T>>,
    next_seq: u64,
    shared: Rc<RefCell<Finished>>,
}

struct Member<T> {
    handle: JoinHandle<T>,
    seq: u64,
}

/// What the tasks' guards tell the group.
#[derive(Default)]
struct Finished {
    /// Keys of members whose future has ended, in the order they ended.
    keys: VecDeque<usize>,
    /// Who waits in `join_next`.
    waiter: Option<Waker>,
}

/// Carried by each task of a group; its drop says "this task's future has
/// ended", whatever the way: returned, panicked, or aborted.
struct Ended {
    key: usize,
    shared: Rc<RefCell<Finished>>,
}

impl Drop for Ended {
    fn drop(&mut self) {
        let waiter = {
            let mut finished = self.shared.borrow_mut();
            finished.keys.push_back(self.key);
            finished.waiter.take()
        };
        // Wake outside the borrow: a waker is code we do not control.
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    }
}

impl<T: 'static> TaskGroup<T> {
    /// An empty group.
    pub fn new() -> TaskGroup<T> {
        TaskGroup {
            members: Slab::new(),
            next_seq: 0,
            shared: Rc::default(),
        }
    }

    /// Spawns `future` as a task of this group. It starts at the loop's
    /// next turn, like any `spawn`.
    ///
    /// # Panics
    ///
    /// Outside a running loop, like `runtime::spawn`.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F)
    where
        F: Future<Output = T> + 'static,
    {
        let entry = self.members.vacant_entry();
        let ended = Ended {
            key: entry.key(),
            shared: self.shared.clone(),
        };
        let handle = spawn(async move {
            let _ended = ended; // dropped when the future ends, any way
            future.await
        });
        entry.insert(Member {
            handle,
            seq: self.next_seq,
        });
        self.next_seq += 1;
    }

    // ANCHOR: join_next
    /// Waits for the next task of the group to finish and gives its result:
    /// its output, or a [`JoinError`] if it panicked or was aborted. Results
    /// come in the order the tasks finish. `None` when the group is empty.
    ///
    /// Cancel-safe: dropping the future loses no result; the next call
    /// gives it.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx))
            .await
            .map(|(_, result)| result)
    }

    fn poll_join_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<(u64, Result<T, JoinError>)>> {
        if self.members.is_empty() {
            return Poll::Ready(None);
        }
        let next = self.shared.borrow_mut().keys.pop_front();
        let Some(key) = next else {
            let waker = cx.waker().clone(); // user code: before the borrow
            let replaced = self.shared.borrow_mut().waiter.replace(waker);
            drop(replaced); // and after it
            return Poll::Pending;
        };
        // The task's future has ended, so its handle is ready (unless the
        // cooperative budget is spent: then try again at the next poll).
        let member = &mut self.members[key];
        match Pin::new(&mut member.handle).poll(cx) {
            Poll::Ready(result) => {
                let member = self.members.remove(key);
                Poll::Ready(Some((member.seq, result)))
            }
            Poll::Pending => {
                self.shared.borrow_mut().keys.push_front(key);
                Poll::Pending
            }
        }
    }
    // ANCHOR_END: join_next

    /// Aborts every task in the group. They stay in it: `join_next` gives
    /// a cancelled `JoinError` for each one that had not finished (and the
    /// result for each that had).
    pub fn abort_all(&mut self) {
        for (_, member) in &self.members {
            member.handle.abort();
        }
    }

    /// Tasks not joined yet.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// True if every task was joined (or none was spawned).
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

impl<T: 'static, E: 'static> TaskGroup<Result<T, E>> {
    // ANCHOR: try_join_all
    /// Waits for every task and gives their values in the order they were
    /// spawned: asyncio's `async with TaskGroup() as tg: ...`. The first
    /// task to fail (return `Err`, panic, or be cancelled) aborts all the
    /// others, and once they have stopped, its error is returned, so that no
    /// sibling is still running when this returns.
    pub async fn try_join_all(mut self) -> Result<Vec<T>, GroupError<E>> {
        let mut values: Vec<(u64, T)> = Vec::with_capacity(self.len());
        let mut failure = None;
        while let Some((seq, result)) = poll_fn(|cx| self.poll_join_next(cx)).await {
            let error = match result {
                Ok(Ok(value)) => {
                    values.push((seq, value));
                    continue;
                }
                Ok(Err(e)) => GroupError::Failed(e),
                Err(join_error) => GroupError::Panicked(join_error),
            };
            if failure.is_none() {
                failure = Some(error);
                self.abort_all(); // the rest are drained, as cancelled
            }
        }
        if let Some(error) = failure {
            return Err(error);
        }
        values.sort_unstable_by_key(|(seq, _)| *seq);
        Ok(values.into_iter().map(|(_, value)| value).collect())
    }
    // ANCHOR_END: try_join_all
}

impl<T> Drop for TaskGroup<T> {
    fn drop(&mut self) {
        for (_, member) in &self.members {
            member.handle.abort();
        }
    }
}

impl<T: 'static> Default for TaskGroup<T> {
    fn default() -> TaskGroup<T> {
        TaskGroup::new()
    }
}

impl<T> fmt::Debug for TaskGroup<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("len", &self.members.len())
            .finish()
    }
}

/// Why [`TaskGroup::try_join_all`] failed: the first task's `Err`, or the
/// first task that panicked or was cancelled.
pub enum GroupError<E> {
    /// A task returned this `Err`.
    Failed(E),
    /// A task panicked, or was cancelled (aborted).
    Panicked(JoinError),
}

impl<E: fmt::Debug> fmt::Debug for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GroupError::Failed(e) => f.debug_tuple("Failed").field(e).finish(),
            GroupError::Panicked(e) => f.debug_tuple("Panicked").field(e).finish(),
        }
    }
}

impl<E: fmt::Display> fmt::Display for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GroupError::Failed(e) => write!(f, "a task of the group failed: {e}"),
            GroupError::Panicked(e) => write!(f, "a task of the group did not finish: {e}"),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for GroupError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            GroupError::Failed(e) => Some(e),
            GroupError::Panicked(e) => Some(e),
        }
    }
}

//! The cooperative budget: how a task that never waits still lets others run.
//!
//! An event loop can only switch tasks when a task returns `Pending`. A task
//! whose awaits are always ready (an accept loop whose `accept` fails at once
//! with "too many open files", a consumer of a queue that is never empty, a
//! socket that is always readable) would never return `Pending`, and then
//! nothing else would run: not the timers, not the sockets, not the tasks
//! that would free a file descriptor.
//!
//! So each poll of a task gets a budget of [`BUDGET`] operations. Every leaf
//! future of looplet that can wait (socket operations, `Sleep`, `Queue`,
//! `Semaphore`, `Event`, `JoinHandle`, the blocking pool's answers) spends
//! one unit each time it completes, through [`poll_proceed`]. When the
//! budget is spent, the next such future wakes its own task and returns
//! `Pending` instead of doing its work: the task goes to the back of the run
//! queue, and the loop runs the others and looks at the OS before it comes
//! back. Nothing is lost: the operation was not tried, so it is tried again
//! on the next poll.
//!
//! tokio does the same (its budget is 128 per task poll). asyncio has no
//! budget: `await` on something already done does not yield to the loop
//! there, so `while True: await ready_thing()` freezes an asyncio program.
//!
//! Outside a task poll (a future polled by hand, or by another executor)
//! the budget is unlimited: only the loop hands budgets out.

use std::cell::Cell;
use std::task::{Context, Poll};

/// Operations a task may complete in one poll before it must yield.
pub(crate) const BUDGET: u16 = 128;

/// No budget in force: we are not inside a poll made by the loop.
const UNLIMITED: u16 = u16::MAX;

thread_local! {
    /// What is left of the budget of the poll running on this thread.
    static LEFT: Cell<u16> = const { Cell::new(UNLIMITED) };
}

// ANCHOR: budget
/// Runs `poll` (one poll of a task or of the main future) with a fresh
/// budget, and puts back whatever budget was in force before.
#[inline]
pub(crate) fn with_budget<R>(poll: impl FnOnce() -> R) -> R {
    struct Restore(u16);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = LEFT.try_with(|left| left.set(self.0));
        }
    }
    let _restore = Restore(LEFT.with(|left| left.replace(BUDGET)));
    poll()
}

/// A leaf future's first step: `Ready` if the task may go on, or, once the
/// budget is spent, `Pending` after waking the task so it runs again soon.
/// Use with [`spend`] when the operation completes.
#[inline]
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    let left = LEFT.try_with(Cell::get).unwrap_or(UNLIMITED);
    if left == 0 {
        cx.waker().wake_by_ref();
        return Poll::Pending;
    }
    Poll::Ready(())
}

/// A leaf future completed an operation: one unit of the budget is gone.
#[inline]
pub(crate) fn spend() {
    let _ = LEFT.try_with(|left| {
        let n = left.get();
        if n != UNLIMITED {
            left.set(n.saturating_sub(1));
        }
    });
}

/// True if the poll running now has spent its whole budget. A future that
/// polls many others (`gather`) checks it, to stop polling children that
/// would only yield at once.
#[inline]
pub(crate) fn is_spent() -> bool {
    LEFT.try_with(Cell::get).is_ok_and(|left| left == 0)
}

/// [`poll_proceed`], then `poll`, then [`spend`] if it completed: the whole
/// budget protocol around one leaf poll.
#[inline]
pub(crate) fn budgeted<T>(
    cx: &mut Context<'_>,
    poll: impl FnOnce(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    std::task::ready!(poll_proceed(cx));
    let result = poll(cx);
    if result.is_ready() {
        spend();
    }
    result
}
// ANCHOR_END: budget

/// The budget left in the current poll (`None`: unlimited). For tests.
#[cfg(test)]
pub(crate) fn left() -> Option<u16> {
    let left = LEFT.with(Cell::get);
    (left != UNLIMITED).then_some(left)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_runs_out_and_is_restored_after_the_poll() {
        assert_eq!(left(), None);
        with_budget(|| {
            assert_eq!(left(), Some(BUDGET));
            for _ in 0..BUDGET {
                spend();
            }
            assert_eq!(left(), Some(0));
            let waker = futures_task::noop_waker();
            let mut cx = Context::from_waker(&waker);
            assert!(poll_proceed(&mut cx).is_pending());
        });
        assert_eq!(left(), None);
    }
}

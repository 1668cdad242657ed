//! Tasks: a future the loop owns, in one heap allocation.
//!
//! `spawn(future)` makes one `Arc<TaskCell<F, S>>`: a [`Header`] (what the loop
//! and the wakers need to know), then the future, later replaced by its
//! output. That `Arc` is seen through three faces, each a trait object or a
//! `Waker` over the same allocation, so none of them allocates again:
//!
//! - [`TaskRef`] (`Arc<dyn Runnable>`): held by the loop's task table and by
//!   a run queue while the task waits for its turn;
//! - the task's `Waker`, made by futures-task's `ArcWake` from the same `Arc`
//!   (cloning it bumps the reference count; waking it allocates nothing);
//! - `JoinHandle<T>` (`Arc<dyn Join<T>>`): the user's way to the output.
//!
//! # Who may touch what
//!
//! The future and its output live in `stage`. They are touched, and dropped,
//! only on the loop's thread: polled by [`Runnable::run`], taken by the
//! `JoinHandle` (which is `!Send`), dropped by the loop at shutdown. Wakers
//! are `Send + Sync` and may be cloned, woken and dropped on any thread, so
//! they touch only `state` (an atomic) and `scheduler` (the loop's injection
//! queue). When the last reference goes away on another thread, `stage` is
//! already `Consumed` (the loop empties it when the task completes or the
//! loop ends), so freeing the memory there drops no user value.
//!
//! Fields in `Cell`s (`polls`, `slot`, `waiting_on`, ...) are loop-thread-only
//! by the same rule. That rule is what makes the
//! `unsafe impl Send + Sync for TaskCell<F, S>` below sound for a future that is
//! neither.
//!
//! # Life cycle
//!
//! ```text
//!              spawn                    wake (any thread)
//!   (new) ----------------> SCHEDULED <---------------------+
//!                              |                             |
//!                              | (1) Runnable::run:           |
//!                              |     clear SCHEDULED, poll    |
//!                              v                             |
//!                            idle  --------------------------+
//!                              |      poll returned Pending
//!                              |
//!                              | (2) poll returned Ready, panicked,
//!                              |     or abort() was requested
//!                              v
//!                           COMPLETE   (output stored for the JoinHandle;
//!                                       wakes are ignored from now on)
//! ```
//!
//! A wake while the task is being polled sets SCHEDULED again and queues the
//! task once, so it is polled once more after this poll returns: a wake is
//! never lost and never doubles up. The loom model
//! `wake_during_poll_runs_the_task_again_exactly_once` checks that.

use std::cell::{Cell, UnsafeCell};
use std::future::Future;
use std::panic::{self, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use futures_task::{waker_ref, ArcWake};

use crate::contain::{contain, drop_contained, drop_payload};
use crate::context;
use crate::error::{JoinError, TaskLabel};
use crate::observe::{self, TaskSnapshot, WaitRecord};
use crate::shim::{AtomicUsize, Ordering};

/// A reference to a task, as the loop's queues and task table hold it.
pub(crate) type TaskRef = Arc<dyn Runnable>;

/// What the loop does with a task, whatever its future's type.
pub(crate) trait Runnable: Send + Sync {
    /// Polls the future once (or drops it if `abort` was requested), and
    /// says whether the task completed, so the loop can forget it. Called
    /// only on the loop's thread.
    fn run(self: Arc<Self>) -> Ran;
    /// Drops the future now, because the loop is ending; a `JoinHandle`
    /// still held will report the task as cancelled. Loop thread only.
    fn shutdown(&self);
    fn header(&self) -> &Header;
}

/// What one [`Runnable::run`] did.
#[must_use]
pub(crate) enum Ran {
    /// The task waits for a wake (or was already complete: a stale entry).
    Pending,
    /// The task completed in this run: the loop forgets it at `slot` of its
    /// task table.
    Completed { slot: usize },
}

/// Where a woken task goes: its loop's run queues. `queue.rs`'s `Shared`
/// is the one implementation; naming it through this trait keeps this file
/// below `queue.rs` (which holds tasks) in the reading order.
pub(crate) trait Schedule: Send + Sync + 'static {
    /// Queues `task` on its loop. Called from any thread.
    fn schedule(scheduler: &Arc<Self>, task: TaskRef);
}

// ANCHOR: state
/// The task's state word. The only part of a task that other threads
/// change, which is why it is the one atomic in the header.
pub(crate) struct State(AtomicUsize);

/// The task is in a run queue, or about to be pushed to one. Set by a wake
/// (the first wake to set it pushes the task) and cleared by `run` just
/// before the poll, so a wake during the poll queues the task again.
const SCHEDULED: usize = 0b01;
/// The future is gone: it finished, panicked or was cancelled. Set once, by
/// the loop. Wakes after this do nothing.
const COMPLETE: usize = 0b10;
/// `abort()` was called: drop the future at the next turn instead of
/// polling it. Set and read by the loop's thread only; it lives in the state
/// word just to keep the header small.
const CANCEL_REQUESTED: usize = 0b100;
/// A `JoinHandle` still exists and may want the output. Cleared when the
/// handle is dropped. Loop thread only, like `CANCEL_REQUESTED`.
const JOIN_INTEREST: usize = 0b1000;

impl State {
    fn new_scheduled() -> State {
        State(AtomicUsize::new(SCHEDULED | JOIN_INTEREST))
    }

    /// A wake. Returns true if the caller must push the task to a queue.
    /// AcqRel: the Release half publishes what the waker wrote before waking
    /// (a value sent on a channel, say) to the poll that follows, whose
    /// `start_poll` is the Acquire that pairs with it.
    #[must_use]
    #[inline]
    fn schedule(&self) -> bool {
        let prev = self.0.fetch_or(SCHEDULED, Ordering::AcqRel);
        prev & (SCHEDULED | COMPLETE) == 0
    }

    /// Before a poll: clear SCHEDULED so a wake during the poll counts.
    /// Returns false if the task already completed (a stale queue entry).
    #[must_use]
    #[inline]
    fn start_poll(&self) -> bool {
        let prev = self.0.fetch_and(!SCHEDULED, Ordering::AcqRel);
        prev & COMPLETE == 0
    }

    /// After the last poll. The Release half pairs with the Acquire in
    /// `is_complete`.
    #[inline]
    fn complete(&self) {
        self.0.fetch_or(COMPLETE, Ordering::AcqRel);
    }

    #[inline]
    fn is_complete(&self) -> bool {
        self.0.load(Ordering::Acquire) & COMPLETE != 0
    }

    /// The loop-thread-only flags (`CANCEL_REQUESTED`, `JOIN_INTEREST`).
    /// Relaxed: only the loop's thread sets or reads them, so
    /// there is nothing to order with.
    #[inline]
    fn set_flag(&self, flag: usize, on: bool) {
        if on {
            self.0.fetch_or(flag, Ordering::Relaxed);
        } else {
            self.0.fetch_and(!flag, Ordering::Relaxed);
        }
    }

    #[inline]
    fn has_flag(&self, flag: usize) -> bool {
        self.0.load(Ordering::Relaxed) & flag != 0
    }
}
// ANCHOR_END: state

// ANCHOR: header
/// Everything about a task except its future: fixed size, the same for
/// every task, so the loop can look at any task through `dyn Runnable`.
pub(crate) struct Header {
    state: State,
    /// Unique within the process, never reused.
    id: u64,
    /// Where `spawn` was called, so a task is always known by its place.
    spawned_at: &'static Location<'static>,
    /// For `observe/` (kept here, where it costs no extra allocation):
    /// how many times the future was polled, saturating at `u32::MAX`.
    /// Loop thread only. 32 bits, so that it and `slot` share one word.
    polls: Cell<u32>,
    /// The task's key in the loop's task table. Loop thread only. A `u32`:
    /// no loop holds 4 billion tasks.
    slot: Cell<u32>,
    /// For `observe/`: what the task waits on, as the runtime's own futures
    /// recorded it in its last poll. Loop thread only.
    waiting_on: Cell<WaitRecord>,
    /// The task awaiting the `JoinHandle`, woken on completion. Loop thread only.
    join_waker: Cell<Option<Waker>>,
}
// ANCHOR_END: header

impl Header {
    /// How a task is named in every message: `task #7 "name" (spawned at
    /// src/main.rs:12:5)` (see `TaskLabel`).
    pub(crate) fn describe(&self) -> TaskLabel {
        TaskLabel::new(self.id, self.spawned_at, observe::name_of(self.id))
    }

    /// Unique within the process, never reused.
    #[inline]
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// What `tasks()` shows of this task.
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn snapshot(&self) -> TaskSnapshot {
        TaskSnapshot {
            label: self.describe(),
            spawned_at: self.spawned_at,
            polls: self.polls.get() as u64,
            waiting_on: self.waiting_on.get(),
        }
    }

    /// Gives the task a name (`spawn_named`).
    pub(crate) fn set_name(&self, name: &str) {
        observe::set_name(self.id, name);
    }

    #[inline]
    pub(crate) fn slot(&self) -> usize {
        self.slot.get() as usize
    }

    pub(crate) fn set_slot(&self, slot: usize) {
        let slot = u32::try_from(slot).expect("a loop holds fewer than 4 billion tasks");
        self.slot.set(slot);
    }
}

/// Task ids are unique within the process and never reused.
fn next_task_id() -> u64 {
    // Uniqueness is all this counter promises, so Relaxed is enough; it is a
    // std atomic even under loom, because it is not part of any handshake.
    static NEXT_ID: AtomicU64 = AtomicU64::new(1);
    NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

// ANCHOR: cell
/// The one allocation of a task: header first, then the future or output.
pub(crate) struct TaskCell<F: Future, S> {
    header: Header,
    /// The loop this task belongs to: a wake pushes the task there.
    scheduler: Arc<S>,
    stage: UnsafeCell<Stage<F>>,
}

/// Where the task is in its life. Loop thread only, like the future itself.
enum Stage<F: Future> {
    Pending(F),
    Finished(Result<F::Output, JoinError>),
    /// The output was taken by the `JoinHandle`, or dropped because nobody
    /// wanted it, or the loop ended.
    Consumed,
}
// ANCHOR_END: cell

// SAFETY: a `TaskCell` is shared between threads only through wakers, which
// touch `header.state` (atomic) and `scheduler` (Send + Sync, by `Schedule`).
// Everything else, the future, its output and the `Cell`s in the header, is
// touched only on the loop's thread (see "Who may touch what" above): the
// loop polls and drops the future, and the `JoinHandle` that reads the output
// is `!Send`. When the last reference is dropped off the loop's thread,
// `stage` is already `Consumed`, so no `F` or `F::Output` is dropped there.
unsafe impl<F: Future, S: Schedule> Send for TaskCell<F, S> {}
// SAFETY: as for `Send` above: shared access from other threads reaches
// only the atomic state and the `Send + Sync` loop handle.
unsafe impl<F: Future, S: Schedule> Sync for TaskCell<F, S> {}

/// Makes a new task, already marked SCHEDULED: the caller pushes it to the
/// loop's queue and table. Returns the task's two faces.
pub(crate) fn new_task<F, S>(
    future: F,
    scheduler: Arc<S>,
    spawned_at: &'static Location<'static>,
) -> (TaskRef, Arc<dyn Join<F::Output>>)
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule,
{
    let cell = Arc::new(TaskCell {
        scheduler,
        header: Header {
            state: State::new_scheduled(),
            id: next_task_id(),
            spawned_at,
            polls: Cell::new(0),
            slot: Cell::new(u32::MAX),
            waiting_on: Cell::new(WaitRecord::NONE),
            join_waker: Cell::new(None),
        },
        stage: UnsafeCell::new(Stage::Pending(future)),
    });
    (cell.clone(), cell)
}

impl<F: Future, S: Schedule> TaskCell<F, S> {
    /// Gives the stage to `f`. Called only on the loop's thread, by the loop
    /// or by a `!Send` `JoinHandle`.
    fn with_stage<R>(&self, f: impl FnOnce(&mut Stage<F>) -> R) -> R {
        // No two borrows overlap on this thread: the ones held across user
        // code are the poll in `run` and the in-place drop in `drop_future`,
        // both while the task is not COMPLETE, and every other access
        // (`poll_join`, `detach`) comes only once it is COMPLETE.
        // SAFETY: "Who may touch what": only the loop's thread touches
        // `stage`, and (above) its borrows never overlap.
        let stage = unsafe { &mut *self.stage.get() };
        f(stage)
    }

    /// The answer of a run in which the task completed.
    fn completed(&self) -> Ran {
        Ran::Completed {
            slot: self.header.slot(),
        }
    }

    /// Stores the task's result and tells whoever waits for it.
    ///
    /// Two kinds of user code run here on the loop's behalf, and a panic in
    /// either is contained (see `contain.rs`): the `Drop` of an output that
    /// nobody will take (a detached task's, or a panic payload's), and the
    /// waker of whoever awaits the `JoinHandle`.
    fn finish(&self, result: Result<F::Output, JoinError>) {
        let keep = self.header.state.has_flag(JOIN_INTEREST);
        let unwanted = if keep {
            self.with_stage(|stage| *stage = Stage::Finished(result));
            None
        } else {
            self.with_stage(|stage| *stage = Stage::Consumed);
            Some(result)
        };
        self.header.state.complete();
        if let Some(result) = unwanted {
            drop_unwanted(&self.header, result); // its report names the task
        }
        observe::task_finished(self.header.id);
        context::forget(self.header.id);
        if let Some(waker) = self.header.join_waker.take() {
            contain(
                format_args!(
                    "the waker awaiting the JoinHandle of {}",
                    self.header.describe()
                ),
                || waker.wake(),
            );
        }
    }
}

impl<F: Future + 'static, S: Schedule> Runnable for TaskCell<F, S> {
    // ANCHOR: run
    fn run(self: Arc<Self>) -> Ran {
        if !self.header.state.start_poll() {
            return Ran::Pending; // completed while it sat in the queue
        }
        if self.header.state.has_flag(CANCEL_REQUESTED) {
            drop_future(&self);
            self.finish(Err(JoinError::cancelled(self.header.describe())));
            return self.completed();
        }
        // Which task runs, for context variables (and `tasks()`).
        context::enter_task(self.header.id);
        observe::poll_started(&self.header.polls);
        // The waker is this same Arc: `waker_ref` lends it without cloning.
        let waker = waker_ref(&self);
        let mut cx = Context::from_waker(&waker);
        // ANCHOR: pin_and_poll
        let poll = self.with_stage(|stage| {
            let Stage::Pending(future) = stage else {
                unreachable!("a task is polled only while its future is pending")
            };
            // SAFETY: the future lives inside the task's heap allocation and
            // is never moved out of it: it is dropped in place by assigning a
            // new stage, which is what `Pin` requires.
            let future = unsafe { Pin::new_unchecked(future) };
            // A panic in one task must not take the loop down with it.
            panic::catch_unwind(AssertUnwindSafe(|| future.poll(&mut cx)))
        });
        // ANCHOR_END: pin_and_poll
        let result = match poll {
            Ok(Poll::Pending) => {
                observe::poll_pending(&self.header.waiting_on);
                return Ran::Pending;
            }
            Ok(Poll::Ready(output)) => Ok(output),
            Err(payload) => Err(JoinError::panic(self.header.describe(), payload)),
        };
        drop_future(&self);
        self.finish(result);
        self.completed()
    }
    // ANCHOR_END: run

    fn shutdown(&self) {
        if self.header.state.is_complete() {
            return;
        }
        drop_future(self);
        self.finish(Err(JoinError::cancelled(self.header.describe())));
    }

    fn header(&self) -> &Header {
        &self.header
    }
}

// ANCHOR: drop_future
/// Drops the future where it lies, catching a panic from its destructor so
/// one bad `Drop` cannot take the loop down either.
///
/// *Where it lies* matters: the future is pinned inside the task, and a
/// pinned value must be dropped in place, never moved first. An `async`
/// block waiting on `queue.get()` holds the queue and a `Get` that points at
/// it; moved before it is dropped, the `Get` would point at the old place.
/// Assigning the new stage drops the old one in place (and still stores
/// `Consumed` if that destructor panics).
fn drop_future<F: Future, S: Schedule>(task: &TaskCell<F, S>) {
    task.with_stage(|stage| {
        let _ = panic::catch_unwind(AssertUnwindSafe(|| *stage = Stage::Consumed));
    });
}
// ANCHOR_END: drop_future

// ANCHOR: unretrieved
/// A task's result that nobody will take (its handle was dropped): a panic
/// is reported, as asyncio's "Task exception was never retrieved" is, once,
/// on stderr; a cancellation is not worth a message. Then the result is
/// dropped, containing a panic in its `Drop` (an output's, or a payload's).
fn drop_unwanted<T>(header: &Header, result: Result<T, JoinError>) {
    match result {
        Ok(output) => drop_contained(
            format_args!("dropping the output of {}", header.describe()),
            output,
        ),
        Err(error) => {
            if error.is_panic() {
                observe::unretrieved_panic(header.describe(), error.panic_message());
                drop_payload(error.into_panic());
            }
        }
    }
}
// ANCHOR_END: unretrieved

// ANCHOR: wake
impl<F: Future + 'static, S: Schedule> ArcWake for TaskCell<F, S> {
    #[inline]
    fn wake(self: Arc<Self>) {
        Self::wake_by_ref(&self);
    }

    #[inline]
    fn wake_by_ref(arc_self: &Arc<Self>) {
        if arc_self.header.state.schedule() {
            // The clone is a reference count, not an allocation.
            let task: TaskRef = arc_self.clone();
            S::schedule(&arc_self.scheduler, task);
        }
    }
}
// ANCHOR_END: wake

/// What a `JoinHandle<T>` needs from its task, whatever the future's type.
pub(crate) trait Join<T> {
    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>>;
    fn abort(self: Arc<Self>);
    fn is_finished(&self) -> bool;
    /// The handle is gone: the output, when it comes, is dropped at once.
    fn detach(&self);
}

impl<F: Future + 'static, S: Schedule> Join<F::Output> for TaskCell<F, S> {
    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<F::Output, JoinError>> {
        if !self.header.state.is_complete() {
            self.header.join_waker.set(Some(cx.waker().clone()));
            observe::waiting_on(WaitRecord::join(self.header.id));
            return Poll::Pending;
        }
        self.with_stage(|stage| match std::mem::replace(stage, Stage::Consumed) {
            Stage::Finished(result) => Poll::Ready(result),
            _ => panic!("JoinHandle polled after it returned its result"),
        })
    }

    fn abort(self: Arc<Self>) {
        if self.header.state.is_complete() {
            return; // abort after the end changes nothing
        }
        // The next `run` sees the flag and drops the future instead of
        // polling it. Getting to that `run` is an ordinary wake.
        self.header.state.set_flag(CANCEL_REQUESTED, true);
        ArcWake::wake_by_ref(&self);
    }

    fn is_finished(&self) -> bool {
        self.header.state.is_complete()
    }

    fn detach(&self) {
        self.header.state.set_flag(JOIN_INTEREST, false);
        self.header.join_waker.set(None);
        if self.header.state.is_complete() {
            if let Stage::Finished(result) =
                self.with_stage(|stage| std::mem::replace(stage, Stage::Consumed))
            {
                drop_unwanted(&self.header, result);
            }
        }
    }
}

//! Tasks: a future the loop owns, in one heap allocation.
//!
//! `spawn(future)` makes one `TaskCell<F, S>` on the heap: a [`Header`]
//! (what the loop and the wakers need to know, the same for every task),
//! then the loop it belongs to, then the future, later replaced by its
//! output. Everything else holds one thin pointer to that header, counted
//! in the header's state word (there is no `Arc` around the cell):
//!
//! - [`TaskRef`]: held by the loop's task table and by a run queue while
//!   the task waits for its turn;
//! - the task's `Waker`: the same pointer, with [`WAKER_VTABLE`] (cloning
//!   it adds one to the count; waking it allocates nothing);
//! - [`JoinRef<T>`], inside the user's `JoinHandle<T>`: the way to the output.
//!
//! A pointer to a header does not know the future's type. The header does:
//! its [`Vtable`] holds the functions made for this `F` and `S` (poll it,
//! drop it, queue it, free it), which is what `Arc<dyn Trait>` would give
//! for the price of a second pointer in every reference. async-task (smol's
//! tasks) and tokio are built the same way.
//!
//! # Who may touch what
//!
//! The future and its output live in `stage`. They are touched, and dropped,
//! only on the loop's thread: polled by [`TaskRef::run`], taken by the
//! `JoinHandle` (which is `!Send`), dropped by the loop at shutdown. Wakers
//! are `Send + Sync` and may be cloned, woken and dropped on any thread, so
//! they touch only `state` (an atomic) and `scheduler` (the loop's injection
//! queue). When the last reference goes away on another thread, `stage` is
//! already `Consumed` (the loop empties it when the task completes or the
//! loop ends), so freeing the memory there drops no user value.
//!
//! Fields in `Cell`s (`polls`, `slot`, `waiting_on`, ...) are loop-thread-only
//! by the same rule. That rule is what makes the `unsafe impl Send + Sync for
//! TaskRef` below sound for a future that is neither.
//!
//! # Life cycle
//!
//! ```text
//!              spawn                    wake (any thread)
//!   (new) ----------------> SCHEDULED <---------------------+
//!                              |                             |
//!                              | (1) TaskRef::run:            |
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
//! `wake_during_poll_runs_the_task_again_exactly_once` checks that. The
//! memory is freed when the last reference (table, queue entry, waker or
//! handle) is dropped, on whatever thread that happens.

use std::cell::{Cell, UnsafeCell};
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::panic::{self, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use crate::contain::{contain, drop_contained, drop_payload};
use crate::context;
use crate::error::{JoinError, TaskLabel};
use crate::observe::{self, TaskSnapshot, WaitRecord};
use crate::shim::{AtomicUsize, Ordering};

/// What one [`TaskRef::run`] did.
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
    /// Queues `task` on its loop. Called from any thread, always by a
    /// caller that holds another reference to the task (so the task, and
    /// the `scheduler` inside it, outlive the call).
    fn schedule(scheduler: &Arc<Self>, task: TaskRef);
}

// ANCHOR: state
/// The task's state word: five flags in the low bits, and above them the
/// number of references to the task. The only part of a task that other
/// threads change, which is why it is the one atomic in the header.
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
/// The task is COMPLETE and its output waits in `stage` for the
/// `JoinHandle`. Loop thread only, like `CANCEL_REQUESTED`.
const OUTPUT: usize = 0b1_0000;
/// One reference: the count sits above the five flags.
const REF_ONE: usize = 0b10_0000;

impl State {
    /// A new task's word: scheduled, wanted by its handle, and `refs`
    /// references.
    fn new(refs: usize) -> State {
        State(AtomicUsize::new(
            SCHEDULED | JOIN_INTEREST | (refs * REF_ONE),
        ))
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

    /// The loop-thread-only flags (`CANCEL_REQUESTED`, `JOIN_INTEREST`,
    /// `OUTPUT`).
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

    /// One more reference. Relaxed, as for `Arc::clone`: a new reference is
    /// made from an existing one, which already keeps the task alive.
    #[inline]
    fn add_ref(&self) {
        let prev = self.0.fetch_add(REF_ONE, Ordering::Relaxed);
        if prev > usize::MAX / 2 {
            // Leaked wakers by the billion: stop before the count wraps
            // round and frees a task still in use (Arc does the same).
            std::process::abort();
        }
    }

    /// One reference fewer; true if it was the last. AcqRel: every use of
    /// the task through other references happens before the one that frees
    /// it.
    #[inline]
    #[must_use]
    fn drop_ref(&self) -> bool {
        let prev = self.0.fetch_sub(REF_ONE, Ordering::AcqRel);
        prev / REF_ONE == 1
    }
}
// ANCHOR_END: state

// ANCHOR: header
/// Everything about a task except its future: fixed size, the same for
/// every task, so the loop can look at any task through a `TaskRef`.
pub(crate) struct Header {
    state: State,
    /// The functions made for this task's future type (see [`Vtable`]).
    vtable: &'static Vtable,
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

/// What a header's owner can do without knowing the future's type: one
/// `static` per `TaskCell<F, S>` type, made by [`TaskCell::VTABLE`]. Every
/// function takes the task's header pointer, which points at the start of
/// that `TaskCell` (`#[repr(C)]`, header first).
pub(crate) struct Vtable {
    /// Polls the future once (or drops it, if aborted). Loop thread only.
    run: unsafe fn(&TaskRef) -> Ran,
    /// Drops the future: the loop is ending. Loop thread only.
    shutdown: unsafe fn(&TaskRef),
    /// Pushes the task to its loop's queue.
    schedule: unsafe fn(TaskRef),
    /// Moves the finished output into `*mut Option<Result<F::Output,
    /// JoinError>>`. Loop thread only, by the `JoinHandle`.
    take_output: unsafe fn(&TaskRef, *mut ()),
    /// Drops a finished output nobody will take. Loop thread only.
    drop_output: unsafe fn(&TaskRef),
    /// Frees the allocation: the last reference is gone.
    dealloc: unsafe fn(NonNull<Header>),
}

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

// ANCHOR: task_ref
/// A counted reference to a task: one pointer to its header.
pub(crate) struct TaskRef {
    header: NonNull<Header>,
}

// SAFETY: a `TaskRef` reaches other threads only as (or inside) a waker,
// and from there it touches `header.state` (atomic) and `scheduler` (Send +
// Sync, by `Schedule`), and frees the memory when it is the last reference.
// Everything else, the future, its output and the `Cell`s in the header, is
// touched only on the loop's thread (see "Who may touch what" above): the
// loop polls and drops the future, and the `JoinHandle` that reads the
// output is `!Send`. When the last reference is dropped off the loop's
// thread, `stage` is already `Consumed`, so no `F` or `F::Output` is
// dropped there.
unsafe impl Send for TaskRef {}
// SAFETY: as for `Send` above: shared access from other threads reaches
// only the atomic state and the `Send + Sync` loop handle.
unsafe impl Sync for TaskRef {}

impl TaskRef {
    #[inline]
    pub(crate) fn header(&self) -> &Header {
        // SAFETY: this reference keeps the task alive, so its header is
        // there; the header is only ever read through shared references.
        unsafe { self.header.as_ref() }
    }

    /// Polls the task once (or drops its future, if it was aborted), and
    /// says whether it completed, so the loop can forget it. Loop thread only.
    #[inline]
    pub(crate) fn run(self) -> Ran {
        // SAFETY: the vtable was made for this task's own type, and the
        // loop calls `run` only on its own thread.
        unsafe { (self.header().vtable.run)(&self) }
    }

    /// Drops the future now, because the loop is ending; a `JoinHandle`
    /// still held will report the task as cancelled. Loop thread only.
    pub(crate) fn shutdown(&self) {
        // SAFETY: as for `run`.
        unsafe { (self.header().vtable.shutdown)(self) }
    }

    /// A waker that borrows this reference, for one poll: no count changes.
    /// `ManuallyDrop`, because dropping it would give back a reference it
    /// never took.
    fn borrowed_waker(&self) -> ManuallyDrop<Waker> {
        let raw = RawWaker::new(self.header.as_ptr().cast(), &WAKER_VTABLE);
        // SAFETY: `WAKER_VTABLE`'s functions expect a header pointer, which
        // this is, and the waker is used only while `self` lives.
        ManuallyDrop::new(unsafe { Waker::from_raw(raw) })
    }

    /// The reference a waker holds, taken back from its data pointer.
    ///
    /// # Safety
    ///
    /// `data` is a header pointer whose count includes this reference.
    unsafe fn from_waker_data(data: *const ()) -> TaskRef {
        TaskRef {
            // SAFETY: wakers are made only from header pointers (non-null).
            header: unsafe { NonNull::new_unchecked(data.cast_mut().cast()) },
        }
    }
}

impl Clone for TaskRef {
    #[inline]
    fn clone(&self) -> TaskRef {
        self.header().state.add_ref();
        TaskRef {
            header: self.header,
        }
    }
}

impl Drop for TaskRef {
    #[inline]
    fn drop(&mut self) {
        if self.header().state.drop_ref() {
            // SAFETY: that was the last reference: nobody else can reach the
            // task, and the vtable frees it as the type it was made as.
            unsafe { (self.header().vtable.dealloc)(self.header) }
        }
    }
}
// ANCHOR_END: task_ref

// ANCHOR: cell
/// The one allocation of a task: header first, then the future or output.
/// `#[repr(C)]` keeps the header at the start, so a pointer to the header
/// is a pointer to the whole cell.
#[repr(C)]
struct TaskCell<F: Future, S> {
    header: Header,
    /// The loop this task belongs to: a wake pushes the task there.
    scheduler: Arc<S>,
    stage: UnsafeCell<Stage<F>>,
}

/// The future, and later its output, in the same bytes. Which one is there
/// is told by the state word, which the loop keeps anyway, so the stage
/// needs no tag of its own:
///
/// - not COMPLETE: the future;
/// - COMPLETE and OUTPUT: the output, waiting for the `JoinHandle`;
/// - COMPLETE alone: nothing (the output was taken, or dropped because
///   nobody wanted it, or the loop ended).
///
/// Loop thread only, like the future itself.
union Stage<F: Future> {
    future: ManuallyDrop<F>,
    output: ManuallyDrop<Result<F::Output, JoinError>>,
}
// ANCHOR_END: cell

/// Makes a new task, already marked SCHEDULED: the caller pushes it to the
/// loop's queue and table. Returns the loop's reference and the handle's.
pub(crate) fn new_task<F, S>(
    future: F,
    scheduler: Arc<S>,
    spawned_at: &'static Location<'static>,
) -> (TaskRef, JoinRef<F::Output>)
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule,
{
    let cell = Box::new(TaskCell {
        header: Header {
            state: State::new(2), // the two returned here
            vtable: &TaskCell::<F, S>::VTABLE,
            id: next_task_id(),
            spawned_at,
            polls: Cell::new(0),
            slot: Cell::new(u32::MAX),
            waiting_on: Cell::new(WaitRecord::NONE),
            join_waker: Cell::new(None),
        },
        scheduler,
        stage: UnsafeCell::new(Stage {
            future: ManuallyDrop::new(future),
        }),
    });
    // SAFETY: `Box::into_raw` never returns null.
    let cell = unsafe { NonNull::new_unchecked(Box::into_raw(cell)) };
    let header = cell.cast::<Header>(); // header first: the same address
    (
        TaskRef { header },
        JoinRef {
            task: TaskRef { header },
            _output: PhantomData,
        },
    )
}

impl<F: Future + 'static, S: Schedule> TaskCell<F, S> {
    /// This type's functions, for the header (promoted to a `static`).
    const VTABLE: Vtable = Vtable {
        run: Self::run,
        shutdown: Self::shutdown,
        schedule: Self::schedule,
        take_output: Self::take_output,
        drop_output: Self::drop_output,
        dealloc: Self::dealloc,
    };

    /// The cell behind a reference.
    ///
    /// # Safety
    ///
    /// `task` was made by `new_task::<F, S>`.
    #[inline]
    unsafe fn of(task: &TaskRef) -> &Self {
        // SAFETY: (caller) the header is the first field of a live
        // `TaskCell<F, S>`, and the pointer came from `Box::into_raw` of the
        // whole cell, so it may be read as one.
        unsafe { task.header.cast::<Self>().as_ref() }
    }

    /// Gives the stage to `f`. Called only on the loop's thread, by the loop
    /// or by a `!Send` `JoinHandle`.
    fn with_stage<R>(&self, f: impl FnOnce(&mut Stage<F>) -> R) -> R {
        // No two borrows overlap on this thread: the ones held across user
        // code are the poll in `run` and the in-place drop in `drop_future`,
        // both while the task is not COMPLETE, and every other access
        // (`take_output`, `drop_output`) comes only once it is COMPLETE.
        // SAFETY: "Who may touch what": only the loop's thread touches
        // `stage`, and (above) its borrows never overlap.
        let stage = unsafe { &mut *self.stage.get() };
        f(stage)
    }

    /// Takes the output out of the stage, if it is there.
    fn take_stored_output(&self) -> Option<Result<F::Output, JoinError>> {
        if !self.header.state.has_flag(OUTPUT) {
            return None;
        }
        self.header.state.set_flag(OUTPUT, false);
        // SAFETY: OUTPUT said the output is the live field; with the flag
        // cleared, nothing will read or drop it again.
        Some(self.with_stage(|stage| unsafe { ManuallyDrop::take(&mut stage.output) }))
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
            // The future's bytes are dead (dropped in place): the output
            // takes them.
            self.with_stage(|stage| stage.output = ManuallyDrop::new(result));
            self.header.state.set_flag(OUTPUT, true);
            None
        } else {
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

    // ANCHOR: run
    unsafe fn run(task: &TaskRef) -> Ran {
        // SAFETY: (caller) the vtable that led here was made for this type.
        let this = unsafe { Self::of(task) };
        if !this.header.state.start_poll() {
            return Ran::Pending; // completed while it sat in the queue
        }
        if this.header.state.has_flag(CANCEL_REQUESTED) {
            drop_future(this);
            this.finish(Err(JoinError::cancelled(this.header.describe())));
            return this.completed();
        }
        // Which task runs, for context variables (and `tasks()`).
        context::enter_task(this.header.id);
        observe::poll_started(&this.header.polls);
        // The waker is this same reference, lent for the poll.
        let waker = task.borrowed_waker();
        let mut cx = Context::from_waker(&waker);
        // ANCHOR: pin_and_poll
        let poll = this.with_stage(|stage| {
            // The future lives inside the task's heap allocation and never
            // leaves it: `drop_future` drops it in place.
            // SAFETY: not COMPLETE (checked above), so `future` is the live
            // field; and it never moves, which is what `Pin` requires.
            let future = unsafe { Pin::new_unchecked(&mut *stage.future) };
            // A panic in one task must not take the loop down with it.
            panic::catch_unwind(AssertUnwindSafe(|| future.poll(&mut cx)))
        });
        // ANCHOR_END: pin_and_poll
        let result = match poll {
            Ok(Poll::Pending) => {
                observe::poll_pending(&this.header.waiting_on);
                return Ran::Pending;
            }
            Ok(Poll::Ready(output)) => Ok(output),
            Err(payload) => Err(JoinError::panic(this.header.describe(), payload)),
        };
        drop_future(this);
        this.finish(result);
        this.completed()
    }
    // ANCHOR_END: run

    unsafe fn shutdown(task: &TaskRef) {
        // SAFETY: (caller) the vtable that led here was made for this type.
        let this = unsafe { Self::of(task) };
        if this.header.state.is_complete() {
            return;
        }
        drop_future(this);
        this.finish(Err(JoinError::cancelled(this.header.describe())));
    }

    unsafe fn schedule(task: TaskRef) {
        // SAFETY: (caller) as above; and the caller holds another reference
        // (see `Schedule`), so `scheduler` outlives this call even if the
        // loop has ended and drops `task`.
        let scheduler: *const Arc<S> = unsafe { &Self::of(&task).scheduler };
        // SAFETY: just above.
        S::schedule(unsafe { &*scheduler }, task);
    }

    unsafe fn take_output(task: &TaskRef, out: *mut ()) {
        // SAFETY: (caller) `out` points at the `Option` of this output type:
        // only a `JoinRef<F::Output>`, made by `new_task::<F, S>`, calls this.
        let out = unsafe { &mut *out.cast::<Option<Result<F::Output, JoinError>>>() };
        // SAFETY: (caller) the vtable that led here was made for this type.
        let this = unsafe { Self::of(task) };
        *out = this.take_stored_output();
    }

    unsafe fn drop_output(task: &TaskRef) {
        // SAFETY: (caller) the vtable that led here was made for this type.
        let this = unsafe { Self::of(task) };
        if let Some(result) = this.take_stored_output() {
            drop_unwanted(&this.header, result);
        }
    }

    unsafe fn dealloc(header: NonNull<Header>) {
        // SAFETY: (caller) the last reference is gone, and the pointer came
        // from `Box::into_raw` of a `TaskCell<F, S>` in `new_task`.
        drop(unsafe { Box::from_raw(header.cast::<Self>().as_ptr()) });
    }
}

/// A union drops nothing by itself. By the time the last reference goes,
/// the loop has always emptied the stage (see "Who may touch what"), so
/// this finds nothing; it is here so that the stage, like any field, is
/// never leaked by the cell's own drop.
impl<F: Future, S> Drop for TaskCell<F, S> {
    fn drop(&mut self) {
        let stage = self.stage.get_mut();
        if !self.header.state.is_complete() {
            // SAFETY: not COMPLETE: the future is the live field.
            unsafe { ManuallyDrop::drop(&mut stage.future) }
        } else if self.header.state.has_flag(OUTPUT) {
            // SAFETY: OUTPUT: the output is the live field.
            unsafe { ManuallyDrop::drop(&mut stage.output) }
        }
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
/// `ManuallyDrop::drop` runs the destructor on the value where it is. Its
/// caller marks the task COMPLETE next, so the dead bytes are never read as
/// a future again, even if that destructor panicked.
fn drop_future<F: Future + 'static, S: Schedule>(task: &TaskCell<F, S>) {
    task.with_stage(|stage| {
        // SAFETY: the callers (`run`, `shutdown`) drop the future only while
        // the task is not COMPLETE, so it is the live field, and only once.
        let in_place = || unsafe { ManuallyDrop::drop(&mut stage.future) };
        let _ = panic::catch_unwind(AssertUnwindSafe(in_place));
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
/// The waker of every task: its data pointer is the task's header, and it
/// holds one counted reference (the borrowed waker of a poll holds none).
static WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(clone_waker, wake_waker, wake_by_ref_waker, drop_waker);

unsafe fn clone_waker(data: *const ()) -> RawWaker {
    // SAFETY: a waker's data is a header pointer, alive while the waker is.
    let task = ManuallyDrop::new(unsafe { TaskRef::from_waker_data(data) });
    let _new_reference = ManuallyDrop::new(TaskRef::clone(&task));
    RawWaker::new(data, &WAKER_VTABLE)
}

unsafe fn wake_by_ref_waker(data: *const ()) {
    // SAFETY: as in `clone_waker`; the waker keeps its reference.
    let task = ManuallyDrop::new(unsafe { TaskRef::from_waker_data(data) });
    if task.header().state.schedule() {
        // The queue gets its own reference: a count, not an allocation.
        let queued = TaskRef::clone(&task);
        // SAFETY: the vtable was made for this task's type, and `task`
        // stays alive across the call (`Schedule`'s rule).
        unsafe { (task.header().vtable.schedule)(queued) }
    }
}

unsafe fn wake_waker(data: *const ()) {
    // SAFETY: as in `clone_waker`. Waking by value is waking by reference,
    // then giving the waker's reference back.
    unsafe { wake_by_ref_waker(data) };
    // SAFETY: this waker's reference, given back once.
    drop(unsafe { TaskRef::from_waker_data(data) });
}

unsafe fn drop_waker(data: *const ()) {
    // SAFETY: this waker's reference, given back once.
    drop(unsafe { TaskRef::from_waker_data(data) });
}
// ANCHOR_END: wake

// ANCHOR: join_ref
/// The `JoinHandle`'s reference to its task, typed by the output it will
/// give. Made only by `new_task`, so `T` is always the future's output type,
/// which is what makes `take_output` sound.
pub(crate) struct JoinRef<T> {
    task: TaskRef,
    _output: PhantomData<fn() -> T>,
}

impl<T> JoinRef<T> {
    pub(crate) fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>> {
        let header = self.task.header();
        if !header.state.is_complete() {
            header.join_waker.set(Some(cx.waker().clone()));
            observe::waiting_on(WaitRecord::join(header.id));
            return Poll::Pending;
        }
        let mut output: Option<Result<T, JoinError>> = None;
        // SAFETY: `T` is the output type this task was made with (see the
        // type's docs), and the `JoinHandle` is used on the loop's thread.
        unsafe { (header.vtable.take_output)(&self.task, (&raw mut output).cast()) };
        match output {
            Some(result) => Poll::Ready(result),
            None => panic!("JoinHandle polled after it returned its result"),
        }
    }

    pub(crate) fn abort(&self) {
        let header = self.task.header();
        if header.state.is_complete() {
            return; // abort after the end changes nothing
        }
        // The next `run` sees the flag and drops the future instead of
        // polling it. Getting to that `run` is an ordinary wake.
        header.state.set_flag(CANCEL_REQUESTED, true);
        self.task.borrowed_waker().wake_by_ref();
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.task.header().state.is_complete()
    }

    /// The handle is gone: the output, when it comes, is dropped at once.
    pub(crate) fn detach(&self) {
        let header = self.task.header();
        header.state.set_flag(JOIN_INTEREST, false);
        header.join_waker.set(None);
        if header.state.is_complete() {
            // SAFETY: the vtable was made for this task's type; the handle
            // is used on the loop's thread.
            unsafe { (header.vtable.drop_output)(&self.task) }
        }
    }
}
// ANCHOR_END: join_ref

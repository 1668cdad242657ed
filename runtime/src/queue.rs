//! Run queues: where a woken task waits for its turn, and how a wake from
//! another thread reaches a loop that may be asleep.
//!
//! Every loop has two queues:
//!
//! - the **local queue** ([`Local`]), a plain `VecDeque` that only the loop's
//!   own thread touches. A wake on the loop's thread (one task waking another,
//!   a timer firing) pushes here: no lock, no atomic read-modify-write on the
//!   queue, no syscall. It lives inside [`Shared`], behind [`OnLoopThread`],
//!   which hands it out only on the thread that made the loop: so a waker,
//!   wherever it is, needs nothing but its `Arc<Shared>` to choose between
//!   the two queues.
//! - the **injection queue** (in [`Shared`]), behind a mutex, for wakes that
//!   happen on other threads (the blocking pool, a plain `std::thread`). The
//!   loop moves its contents to the local queue once per turn. The same
//!   path carries the [`Release`] of a socket or timer dropped on another
//!   thread (see `handle.rs`): the loop runs it on its own thread.
//!
//! # The sleep handshake (no lost wakeups)
//!
//! When the loop has nothing to run it sleeps, in one of two beds: in the
//! reactor's OS poll when it watches sockets, or on its thread's park token
//! when it watches none (a futex: cheaper to sleep on and to wake from; see
//! `Reactor::park`). A wake from another thread must then end that sleep,
//! but ringing costs a syscall, so a waker rings only when the loop is
//! asleep or about to be. The `sleeping` word decides, and says which bell
//! to ring; the order of steps is what makes it safe:
//!
//! ```text
//!   loop thread (prepare_park)          waking thread (push_remote)
//!   1. sleeping = IN_POLL or PARKED      a. lock; push task; unlock
//!   2. lock; queue empty? unlock         b. match sleeping.swap(AWAKE):
//!   3. if empty: sleep in that bed          IN_POLL: interrupt the poll
//!                                           PARKED: unpark the thread
//! ```
//!
//! Either the loop's lock in step 2 comes after the waker's unlock in step a,
//! and the loop sees the task and does not sleep; or it comes before, so
//! step 1 happened before step b, the waker sees the bed, and rings its
//! bell. Both bells are sticky (an eventfd; the thread's park token), so a
//! ring between steps 2 and 3 still ends the sleep. Only the first waker to
//! see the bed pays for the syscall: `swap(AWAKE)` hands the job to exactly
//! one of them. The loom model `cross_thread_wake_vs_park` in
//! `runtime/tests/loom.rs` checks every interleaving of this, in each bed.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::task::Waker;

#[cfg(loom)]
use crate::park::Interrupter;
#[cfg(loom)]
use crate::park::Reactor;
use crate::shim::{lock, thread_local, AtomicUsize, Mutex, Ordering};
use crate::task::{Schedule, TaskRef};
#[cfg(not(loom))]
use reactor::{Interrupter, Reactor};

/// The loop is awake (or about to look at its queues): a waker rings no bell.
const AWAKE: usize = 0;
/// The loop sleeps, or is deciding to, in the reactor's OS poll.
const IN_POLL: usize = 1;
/// The loop sleeps, or is deciding to, on its thread's park token.
const PARKED: usize = 2;

/// What the loop must do for a handle (a socket, a timer) dropped on a
/// thread that is not the loop's: free its entry in the reactor, on the
/// loop's thread. It gives back the wakers it took out (at most two), for
/// the loop to drop once the reactor is no longer borrowed.
pub(crate) type Release = Box<dyn FnOnce(&mut Reactor) -> [Option<Waker>; 2] + Send>;

/// The loop: what other threads can reach (the injection queue, the sleep
/// flag, the interrupter) and, for its own thread only, the local queue.
/// Shared through `Arc` by the loop and by every task (and so every waker).
pub(crate) struct Shared {
    injected: Mutex<Injected>,
    /// Where the loop sleeps (`IN_POLL`, `PARKED`) while it is asleep or
    /// deciding to sleep; `AWAKE` otherwise. Set by the loop, cleared by the
    /// loop or by the one waker that rings for it (see the module docs for
    /// the handshake).
    sleeping: AtomicUsize,
    interrupter: Interrupter,
    local: OnLoopThread<Local>,
}

/// What other threads hand to the loop. Guarded by `Shared::injected`.
#[derive(Default)]
struct Injected {
    tasks: VecDeque<TaskRef>,
    /// The main future (the one given to `block_on`) was woken.
    main_woken: bool,
    /// Handles dropped on other threads, for the loop to release.
    released: Vec<Release>,
    /// The loop has ended: wakes from now on are dropped, not queued, so no
    /// task is kept alive by a queue that nobody will ever read.
    closed: bool,
}

impl Shared {
    /// The queues of a new loop, owned by the calling thread.
    pub(crate) fn new(interrupter: Interrupter) -> Arc<Shared> {
        Arc::new(Shared {
            injected: Mutex::new(Injected::default()),
            sleeping: AtomicUsize::new(AWAKE),
            interrupter,
            local: OnLoopThread::new(Local {
                queue: RefCell::new(VecDeque::new()),
                main_woken: Cell::new(false),
                #[cfg(feature = "explore")]
                chooser: RefCell::new(None),
            }),
        })
    }

    /// The local half. Only the loop uses this, and a loop never leaves the
    /// thread that made it (a `Runtime` is not `Send`).
    pub(crate) fn local(&self) -> &Local {
        self.local
            .get()
            .expect("a loop's local queue is used on the loop's own thread")
    }

    // ANCHOR: schedule
    /// Queues a woken task on its loop: locally when called on the loop's own
    /// thread, through the injection queue from anywhere else.
    #[inline]
    pub(crate) fn schedule(&self, task: TaskRef) {
        match self.local.get() {
            Some(local) => local.push(task),
            None => self.push_remote(task),
        }
    }

    #[inline(never)] // keeps the local path of `schedule` small enough to inline
    fn push_remote(&self, task: TaskRef) {
        let mut injected = lock(&self.injected);
        if injected.closed {
            // Drop the task reference after unlocking: its drop may run
            // arbitrary code (the last reference frees the task).
            drop(injected);
            drop(task);
            return;
        }
        injected.tasks.push_back(task);
        drop(injected);
        self.interrupt_if_sleeping();
    }
    // ANCHOR_END: schedule

    /// Hands the loop the release of a handle dropped on another thread,
    /// and wakes the loop if it sleeps, so the release happens in its next
    /// turn. After the loop ended there is no reactor left to release from:
    /// the job is dropped.
    pub(crate) fn push_release(&self, job: Release) {
        let mut injected = lock(&self.injected);
        if injected.closed {
            drop(injected);
            drop(job);
            return;
        }
        injected.released.push(job);
        drop(injected);
        self.interrupt_if_sleeping();
    }

    /// Is this the thread that made the loop (and the loop not ended)? A
    /// handle checks this before it touches what only that thread may.
    #[inline]
    pub(crate) fn on_loop_thread(&self) -> bool {
        self.local.get().is_some()
    }

    /// Has the loop ended?
    pub(crate) fn is_closed(&self) -> bool {
        lock(&self.injected).closed
    }

    /// Marks the main future woken, from any thread.
    fn wake_main(&self) {
        match self.local.get() {
            Some(local) => local.main_woken.set(true),
            None => {
                lock(&self.injected).main_woken = true;
                self.interrupt_if_sleeping();
            }
        }
    }

    fn interrupt_if_sleeping(&self) {
        // SeqCst pairs with the loop's store of its bed in `prepare_park`;
        // the mutex above already orders the two sides, the strong ordering
        // is a second belt for readers who skip that proof.
        match self.sleeping.swap(AWAKE, Ordering::SeqCst) {
            IN_POLL => self.interrupter.interrupt(),
            PARKED => self.interrupter.unpark(),
            _ => {} // awake: it will see the queue without help
        }
    }

    /// Step 1 and 2 of the handshake: announce that the loop wants to sleep,
    /// and where (`in_poll`: the reactor's OS poll; otherwise parked), then
    /// look once more for work. Returns true when the loop may sleep; it
    /// must call [`Shared::finish_park`] after it wakes.
    pub(crate) fn prepare_park(&self, in_poll: bool) -> bool {
        let bed = if in_poll { IN_POLL } else { PARKED };
        self.sleeping.store(bed, Ordering::SeqCst);
        let injected = lock(&self.injected);
        let idle =
            injected.tasks.is_empty() && !injected.main_woken && injected.released.is_empty();
        drop(injected);
        if !idle {
            self.sleeping.store(AWAKE, Ordering::SeqCst);
        }
        idle
    }

    /// Did another thread hand the loop anything (a wake, a release) that
    /// it has not taken yet?
    #[cfg(feature = "explore")]
    pub(crate) fn has_injected(&self) -> bool {
        let injected = lock(&self.injected);
        !injected.tasks.is_empty() || injected.main_woken || !injected.released.is_empty()
    }

    /// The loop is awake again: wakes from now on need no bell.
    pub(crate) fn finish_park(&self) {
        self.sleeping.store(AWAKE, Ordering::SeqCst);
    }

    /// Moves every wake other threads queued into the local queue, and
    /// returns the releases they handed over, for the loop to run.
    pub(crate) fn drain_injected(&self) -> Vec<Release> {
        let local = self.local();
        let mut injected = lock(&self.injected);
        if injected.main_woken {
            injected.main_woken = false;
            local.main_woken.set(true);
        }
        local.queue.borrow_mut().append(&mut injected.tasks);
        std::mem::take(&mut injected.released)
    }

    /// Ends the loop: empties both queues and returns what was in them.
    /// From now on every wake, on any thread, takes the injection path and
    /// finds it closed, so it drops its task instead of queueing it where
    /// nobody will look (which would also keep the task and this `Shared`
    /// alive through each other).
    pub(crate) fn close(&self) -> (VecDeque<TaskRef>, VecDeque<TaskRef>) {
        let local = self.local().take_all();
        self.local.disown();
        let mut injected = lock(&self.injected);
        injected.closed = true;
        // A release still queued has no reactor to run in any more; drop
        // it (and the handle parts it holds) after unlocking.
        let released = std::mem::take(&mut injected.released);
        let tasks = std::mem::take(&mut injected.tasks);
        drop(injected);
        drop(released);
        (local, tasks)
    }
}

/// How a task's waker reaches its loop (see `task.rs`).
impl Schedule for Shared {
    #[inline]
    fn schedule(shared: &Arc<Shared>, task: TaskRef) {
        shared.schedule(task);
    }
}

/// The main future's waker is the loop's `Shared` itself: waking it sets a
/// flag and makes no allocation, since a `Waker` from an `Arc` just counts.
impl futures_task::ArcWake for Shared {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        arc_self.wake_main();
    }
}

/// The local queue's room kept after a burst empties it: 16,384 tasks
/// (128 KiB), more than most loops ever hold at once.
const KEEP_CAPACITY: usize = 16 * 1024;

/// The part of a loop only its own thread touches.
pub(crate) struct Local {
    queue: RefCell<VecDeque<TaskRef>>,
    main_woken: Cell<bool>,
    /// With a seed (`Builder::explore_seed`), picks the next task instead
    /// of FIFO. Without the feature, the field and its check do not exist.
    #[cfg(feature = "explore")]
    chooser: RefCell<Option<crate::choose::Chooser>>,
}

impl Local {
    #[inline]
    pub(crate) fn push(&self, task: TaskRef) {
        self.queue.borrow_mut().push_back(task);
    }

    /// The next task to run. The `RefCell` borrow ends before the task runs,
    /// so the task may wake others (and itself) while it is polled.
    // ANCHOR: pop
    #[inline]
    pub(crate) fn pop(&self) -> Option<TaskRef> {
        let mut queue = self.queue.borrow_mut();
        // The loop's one choice point (see `choose.rs`): FIFO, unless a
        // seed chooses.
        #[cfg(feature = "explore")]
        let task = match self.chooser.borrow_mut().as_mut() {
            Some(chooser) => {
                let index = chooser.pick(queue.len(), &|i| queue[i].header().id());
                queue.remove(index)
            }
            None => queue.pop_front(),
        };
        #[cfg(not(feature = "explore"))]
        let task = queue.pop_front();
        if task.is_none() && queue.capacity() > KEEP_CAPACITY {
            // A burst is over: give back what it grew, keep what a busy
            // loop uses turn after turn.
            queue.shrink_to(KEEP_CAPACITY);
        }
        task
    }
    // ANCHOR_END: pop

    /// From now on, `pop` lets `chooser` choose among the ready tasks.
    #[cfg(feature = "explore")]
    pub(crate) fn explore(&self, chooser: crate::choose::Chooser) {
        *self.chooser.borrow_mut() = Some(chooser);
    }

    /// The chooser's seed and its choices so far (see `choose.rs`).
    #[cfg(feature = "explore")]
    pub(crate) fn explored(&self) -> Option<(u64, Vec<(u32, u32)>)> {
        let chooser = self.chooser.borrow();
        let chooser = chooser.as_ref()?;
        Some((chooser.seed(), chooser.picks().to_vec()))
    }

    /// The chooser's seed alone (cheap: no copy of the choices).
    #[cfg(feature = "explore")]
    pub(crate) fn explore_seed(&self) -> Option<u64> {
        self.chooser.borrow().as_ref().map(|chooser| chooser.seed())
    }

    /// Takes the main future's wake flag: true means "poll it now".
    pub(crate) fn take_main_wake(&self) -> bool {
        self.main_woken.replace(false)
    }

    pub(crate) fn wake_main_here(&self) {
        self.main_woken.set(true);
    }

    /// Tasks in the queue now.
    pub(crate) fn len(&self) -> usize {
        self.queue.borrow().len()
    }

    /// The ids of the tasks from position `start` to the back (for the
    /// trace, which notes why each newly queued task is there).
    pub(crate) fn ids_from(&self, start: usize) -> Vec<u64> {
        let queue = self.queue.borrow();
        queue
            .range(start.min(queue.len())..)
            .map(|t| t.header().id())
            .collect()
    }

    /// Is there anything to do without waiting for the OS?
    pub(crate) fn has_ready_work(&self) -> bool {
        self.main_woken.get() || !self.queue.borrow().is_empty()
    }

    /// Empties the local queue (at shutdown), returning what was in it.
    pub(crate) fn take_all(&self) -> VecDeque<TaskRef> {
        std::mem::take(&mut *self.queue.borrow_mut())
    }
}

// ANCHOR: on_loop_thread
/// A value only one thread may touch: the one that made it. Any thread may
/// hold the wrapper (it is inside the `Arc<Shared>` of every waker) and ask
/// [`OnLoopThread::get`], which answers `Some` on the owner's thread and
/// `None` everywhere else. That one check is how a wake chooses its queue.
pub(crate) struct OnLoopThread<T> {
    /// The owner's number from `this_thread`, or 0 (no thread's) once the
    /// loop has ended. Relaxed: each thread compares it with its own
    /// number, and only the owner ever changes it.
    owner: AtomicU64,
    value: T,
}

// SAFETY: `get` gives `&T` only on the owner thread, so no two threads ever
// hold a `&T` at once and `T` need not be `Sync`. `T: Send` covers the one
// thing another thread may do with the value: drop it, when the last
// `Arc<Shared>` goes away there.
unsafe impl<T: Send> Sync for OnLoopThread<T> {}

impl<T> OnLoopThread<T> {
    fn new(value: T) -> OnLoopThread<T> {
        let owner = this_thread().expect("a loop is made on a thread that is not ending");
        OnLoopThread {
            owner: AtomicU64::new(owner),
            value,
        }
    }

    /// The value, if this is the owner's thread.
    #[inline]
    fn get(&self) -> Option<&T> {
        let owner = self.owner.load(std::sync::atomic::Ordering::Relaxed);
        (this_thread() == Some(owner)).then_some(&self.value)
    }

    /// From now on no thread gets the value, its owner included.
    fn disown(&self) {
        self.owner.store(0, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A number for the calling thread, unique in the process and never reused
/// (an address or an OS thread id can be reused once a thread ends).
/// `None` on a thread that is being torn down: it is nobody's loop.
#[inline]
fn this_thread() -> Option<u64> {
    // `const`, so that reading it is a plain load (this runs on every
    // wake); loom's `thread_local!` does not accept `const`.
    #[cfg(not(loom))]
    thread_local! {
        static ID: Cell<u64> = const { Cell::new(0) };
    }
    #[cfg(loom)]
    thread_local! {
        static ID: Cell<u64> = Cell::new(0);
    }
    // Numbers only need to be unique, so Relaxed is enough; a std atomic
    // even under loom, since it is part of no handshake.
    static NEXT: AtomicU64 = AtomicU64::new(1);
    ID.try_with(|id| {
        if id.get() == 0 {
            id.set(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        }
        id.get()
    })
    .ok()
}
// ANCHOR_END: on_loop_thread

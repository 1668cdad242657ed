//! The event loop: `block_on`, `spawn`, and the `Runtime` that owns the loop.
//!
//! A loop lives on one thread. It owns a task table (every live task, so it
//! can drop them all when it ends), the two run queues of `queue.rs`, and a
//! reactor to sleep in. `block_on` turns the loop until the
//! future it was given is ready:
//!
//! 1. poll the main future, if something woke it;
//! 2. run ready tasks, at most `POLLS_PER_LOOK` of them;
//! 3. if nothing is ready, sleep in the reactor until an event, a timer or a
//!    wake from another thread; if work is waiting but `POLLS_PER_LOOK` polls went by
//!    since the last look at the OS, look now without sleeping, so a task
//!    that keeps waking itself cannot starve sockets and timers;
//! 4. take in the wakes that other threads queued.
//!
//! `spawn` finds the loop through a thread-local set for as long as
//! `block_on` runs, which is why tasks need not be `Send`: they never leave
//! this thread.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io;
use std::panic::{self, AssertUnwindSafe, Location};
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::blocking::Pool;
use crate::contain::contain;
use crate::context;
use crate::coop;
use crate::join::JoinHandle;
use crate::observe::{self, trace, Observer, Polled, Queued, ReportingTo, Sink, WaitRecord};
#[cfg(loom)]
use crate::park::Reactor; // a condvar loom can see, in place of epoll
use crate::queue::Shared;
use crate::shim::thread_local;
use crate::sync::oneshot;
use crate::table::TaskTable;
use crate::task::{self, Ran, TaskRef};
#[cfg(not(loom))]
use reactor::Reactor;

/// How many polls the loop makes before it looks at the OS again, even when
/// more tasks are ready. Small enough that I/O waits at most a few
/// microseconds of task work; large enough that the zero-timeout poll (one
/// syscall) is amortised over many task polls.
const POLLS_PER_LOOK: u32 = 64;

/// A single-threaded event loop, kept between `block_on` calls.
///
/// [`block_on`] (the free function) makes one of these, runs one future and
/// drops it. Keep a `Runtime` yourself to run several futures in turn on
/// one loop: tasks still pending when one `block_on` returns go on at the
/// next, and are dropped when the `Runtime` is. Dropping it also ends its
/// blocking pool: queued jobs are dropped unrun, running ones waited for.
///
/// A `Runtime` is not `Send`: its tasks need not be, so it stays on the
/// thread that made it.
pub struct Runtime {
    core: Rc<Core>,
}

/// The loop's state. Only its own thread ever sees it.
pub(crate) struct Core {
    /// The run queues: the local one, and the injection queue other threads
    /// reach through wakers.
    shared: Arc<Shared>,
    /// Every live task, so the loop can drop them all when it ends. A task's
    /// key here is stored in its header and freed when it completes.
    tasks: RefCell<TaskTable>,
    reactor: RefCell<Reactor>,
    /// The wakers one turn of the reactor gathered, woken after the turn
    /// (outside the `reactor` borrow). Kept between turns for its capacity.
    woken: Cell<Vec<Waker>>,
    /// Threads for `spawn_blocking`, shut down with the loop.
    blocking: Pool,
    /// Where the `block_on` running this loop was called, for the message
    /// of a nested `block_on`.
    running_since: Cell<Option<&'static Location<'static>>>,
    /// Where this loop's reports go (`Builder::report_to`; stderr by default).
    reports: Sink,
    /// What the loop observes of itself: slow polls, the trace.
    observer: Observer,
}

thread_local! {
    /// The loop running on this thread, set for the length of `block_on`.
    // Not `const { .. }`: loom's `thread_local!` does not accept it.
    #[allow(clippy::missing_const_for_thread_local)]
    static CURRENT: RefCell<Option<Rc<Core>>> = RefCell::new(None);
}

/// Runs `future` to completion on a new event loop on this thread and
/// returns its output: Python's `asyncio.run(main())`.
///
/// Tasks spawned inside that are still pending when `future` finishes are
/// dropped, on this thread, before `block_on` returns. So are
/// `spawn_blocking` jobs still waiting in the pool's queue; jobs already
/// running on a pool thread are waited for (a thread cannot be interrupted).
///
/// # Panics
///
/// If this thread is already running a loop (inside another `block_on`):
/// `.await` the future there instead. If the loop cannot start (the process
/// is out of file descriptors), with the OS's error. A panic in `future`
/// itself comes out of `block_on`.
///
/// ```
/// let answer = runtime::block_on(async { 6 * 7 });
/// assert_eq!(answer, 42);
/// ```
#[track_caller]
pub fn block_on<F: Future>(future: F) -> F::Output {
    let runtime = match Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => panic!("runtime::block_on could not start an event loop: {e}"),
    };
    runtime.block_on(future)
}

/// Starts `future` as a task on this thread's loop and returns a handle to
/// its output: Python's `asyncio.create_task(coro)`.
///
/// The task starts running at the loop's next turn, not inside `spawn`.
/// Dropping the [`JoinHandle`] detaches the task: it still runs to the end.
/// (In asyncio you must keep a reference to a task; here you need not.)
///
/// # Panics
///
/// If no loop is running on this thread: call `spawn` from inside
/// [`block_on`] (or from a task).
///
/// ```
/// runtime::block_on(async {
///     let handle = runtime::spawn(async { 1 + 1 });
///     assert_eq!(handle.await.unwrap(), 2);
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let spawned_at = Location::caller();
    with_current("runtime::spawn", |core| core.spawn(future, spawned_at))
}

/// [`spawn`] with a name: asyncio's `create_task(coro, name=...)`. The name
/// shows in [`tasks()`](crate::tasks), in slow-poll warnings and in the
/// report of a panic nobody awaited.
///
/// ```
/// runtime::block_on(async {
///     let handle = runtime::spawn_named("answer", async { 42 });
///     assert!(runtime::tasks().iter().any(|t| t.name() == "answer"));
///     assert_eq!(handle.await.unwrap(), 42);
/// });
/// ```
///
/// # Panics
///
/// Outside a running loop, like `spawn`.
// ANCHOR: spawn_named
#[track_caller]
pub fn spawn_named<F>(name: &str, future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let spawned_at = Location::caller();
    with_current("runtime::spawn_named", |core| {
        core.spawn_task(future, spawned_at, Some(name))
    })
}
// ANCHOR_END: spawn_named

/// Runs `f` on the loop's blocking pool and returns a handle to its result:
/// asyncio's `await loop.run_in_executor(None, f)`.
///
/// `f` runs on another thread, so the loop goes on running tasks while it
/// works. A panic in `f` comes back as a [`JoinError`](crate::JoinError)
/// whose `is_panic()` is true, and the pool thread survives it.
///
/// Aborting the handle stops waiting for the result but cannot stop `f`
/// once it runs (a thread cannot be interrupted). If the loop ends first,
/// a job still queued never runs; one already running is waited for.
///
/// # Panics
///
/// Outside a running loop, like [`spawn`](crate::spawn).
///
/// ```
/// runtime::block_on(async {
///     let sum = runtime::spawn_blocking(|| (1..=100u64).sum::<u64>()).await.unwrap();
///     assert_eq!(sum, 5050);
/// });
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let spawned_at = Location::caller();
    with_current("runtime::spawn_blocking", |core| {
        let rx = core.submit_blocking(f);
        // The handle is an ordinary task that awaits the result, so abort,
        // detach and JoinError work exactly as for `spawn`.
        core.spawn(
            async move {
                let mut rx = rx;
                let result = std::future::poll_fn(|cx| {
                    let poll = std::future::Future::poll(std::pin::Pin::new(&mut rx), cx);
                    if poll.is_pending() {
                        observe::waiting_on(WaitRecord::BLOCKING);
                    }
                    poll
                })
                .await;
                match result {
                    Ok(Ok(value)) => value,
                    // Re-raise inside the task: its JoinError carries the
                    // job's own panic payload.
                    Ok(Err(payload)) => panic::resume_unwind(payload),
                    Err(_) => unreachable!("a queued job is dropped only with its loop"),
                }
            },
            spawned_at,
        )
    })
}

/// Runs `f` on the current loop's blocking pool, without a task: the
/// answer (or the panic) comes back through the receiver, which, unlike a
/// `JoinHandle`, is `Send` (`fs::File` keeps one). Panics naming `what`
/// outside a loop.
#[track_caller]
#[cfg_attr(loom, allow(dead_code))]
pub(crate) fn on_blocking_pool<F, R>(what: &str, f: F) -> oneshot::Receiver<std::thread::Result<R>>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    with_current(what, |core| core.submit_blocking(f))
}

/// The live tasks of this thread's loop, with what each waits on:
/// asyncio's `asyncio.all_tasks()`. Each [`TaskInfo`](crate::TaskInfo)
/// prints as one readable line.
///
/// ```
/// use std::time::Duration;
/// runtime::block_on(async {
///     let sleeper = runtime::spawn(runtime::time::sleep(Duration::from_secs(5)));
///     runtime::yield_now().await; // let it start and reach its timer
///     for task in runtime::tasks() {
///         println!("{task}"); // task #2 "src/main.rs:4", polled 1 time, waiting on a timer ...
///     }
///     sleeper.abort();
/// });
/// ```
///
/// # Panics
///
/// Outside a running loop, like `spawn`.
#[track_caller]
pub fn tasks() -> Vec<crate::TaskInfo> {
    with_current("runtime::tasks", |core| core.task_infos())
}

/// True if a loop is running on this thread (so `spawn` would not panic).
#[cfg_attr(loom, allow(dead_code))]
pub(crate) fn in_loop() -> bool {
    CURRENT
        .try_with(|current| current.try_borrow().is_ok_and(|c| c.is_some()))
        .unwrap_or(false)
}

/// The running loop's time (see `time::now`); `None` outside a loop, or
/// while its reactor is in use (it never is while a task is polled).
#[cfg(not(loom))]
#[inline]
pub(crate) fn loop_now() -> Option<std::time::Instant> {
    CURRENT
        .try_with(|current| {
            let current = current.try_borrow().ok()?;
            let reactor = current.as_ref()?.reactor.try_borrow().ok()?;
            Some(reactor.now())
        })
        .ok()
        .flatten()
}

/// The running loop's seed, if it explores. `None` outside a loop.
#[cfg(feature = "explore")]
pub(crate) fn explore_seed() -> Option<u64> {
    let core = CURRENT
        .try_with(|current| current.borrow().clone())
        .ok()??;
    core.shared.local().explore_seed()
}

/// Calls `f` with the loop running on this thread, or panics naming `what`.
#[track_caller]
pub(crate) fn with_current<R>(what: &str, f: impl FnOnce(&Rc<Core>) -> R) -> R {
    let core = CURRENT.with(|current| current.borrow().clone());
    match core {
        Some(core) => f(&core),
        None => panic!(
            "{what} was called outside a running event loop (at {}). \
             Call it from code running inside runtime::block_on(...).",
            Location::caller()
        ),
    }
}

impl Runtime {
    /// Lets `chooser` choose the order of ready tasks from now on.
    #[cfg(feature = "explore")]
    pub(crate) fn explore(&self, chooser: crate::choose::Chooser) {
        self.core.shared.local().explore(chooser);
    }

    /// Stops this loop's clock: from now on it moves only when the idle
    /// loop jumps it to the next timer.
    #[cfg(feature = "explore")]
    pub(crate) fn pause_clock(&self) {
        self.core.reactor.borrow_mut().pause_clock();
    }

    /// This loop's seed and the choices it made so far, if it explores.
    #[cfg(feature = "explore")]
    pub(crate) fn explored(&self) -> Option<(u64, Vec<(u32, u32)>)> {
        self.core.shared.local().explored()
    }

    /// A loop with these settings (checked by `Builder::build`, which calls
    /// this; `Runtime::new` is in `builder.rs`, beside the defaults).
    pub(crate) fn with_settings(
        blocking_threads: usize,
        thread_keep_alive: Duration,
        slow_poll_threshold: Option<Duration>,
        reports: Sink,
    ) -> io::Result<Runtime> {
        let reactor = Reactor::new()?;
        let blocking = Pool::new(blocking_threads, thread_keep_alive);
        let shared = Shared::new(reactor.interrupter());
        Ok(Runtime {
            core: Rc::new(Core {
                shared,
                tasks: RefCell::new(TaskTable::default()),
                reactor: RefCell::new(reactor),
                woken: Cell::new(Vec::new()),
                blocking,
                running_since: Cell::new(None),
                observer: Observer::new(slow_poll_threshold, &reports),
                reports,
            }),
        })
    }

    // ANCHOR: block_on
    /// Runs `future` to completion on this loop, running spawned tasks while
    /// it waits, and returns its output.
    ///
    /// # Panics
    ///
    /// If this thread is already inside a `block_on`.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _running = Running::enter(&self.core, Location::caller());
        let core = &*self.core;
        let mut future = pin!(future);
        // The main future's waker is the loop's shared half (no allocation).
        let waker = futures_task::waker(core.shared.clone());
        let mut cx = Context::from_waker(&waker);
        core.shared.local().wake_main_here(); // poll it once to start
        let mut polls_since_io = 0;
        loop {
            // 1. The main future, if it was woken.
            if core.shared.local().take_main_wake() {
                polls_since_io += 1;
                let poll = || coop::with_budget(|| future.as_mut().poll(&mut cx));
                if let Poll::Ready(output) = core.poll_main(poll) {
                    return output;
                }
            }
            // 2. Ready tasks, at most POLLS_PER_LOOK of them.
            polls_since_io += core.run_ready_tasks(POLLS_PER_LOOK);
            // 3. The OS: sleep when idle; when busy, look every POLLS_PER_LOOK polls.
            if !core.shared.local().has_ready_work() {
                core.park(None);
                polls_since_io = 0;
            } else if polls_since_io >= POLLS_PER_LOOK {
                core.park(Some(Duration::ZERO));
                polls_since_io = 0;
            }
            // 4. Wakes (and releases) that other threads queued for us.
            core.phase(Queued::FromThread, || core.take_injected());
        }
    }
    // ANCHOR_END: block_on
}

impl Core {
    // ANCHOR: spawn
    pub(crate) fn spawn<F>(
        &self,
        future: F,
        spawned_at: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.spawn_task(future, spawned_at, None)
    }

    /// Spawns, giving the task `name` if there is one (`spawn_named`).
    pub(crate) fn spawn_task<F>(
        &self,
        future: F,
        spawned_at: &'static Location<'static>,
        name: Option<&str>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let shared = self.shared.clone();
        let (task, join) = task::new_task(future, shared, spawned_at);
        if let Some(name) = name {
            task.header().set_name(name);
        }
        let slot = self.tasks.borrow_mut().insert(task.clone());
        task.header().set_slot(slot);
        context::inherit(task.header().id()); // a copy of the spawner's values
        self.phase(Queued::Spawned, || self.shared.local().push(task));
        JoinHandle::new(join)
    }
    // ANCHOR_END: spawn

    /// Queues `f` on the blocking pool; its answer comes through the
    /// receiver (a panic as `Err`, the pool thread surviving it).
    fn submit_blocking<F, R>(&self, f: F) -> oneshot::Receiver<std::thread::Result<R>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.blocking_pool().submit(Box::new(move || {
            let result = panic::catch_unwind(AssertUnwindSafe(f));
            let _ = tx.send(result); // the receiver may be gone: fine
        }));
        rx
    }

    pub(crate) fn blocking_pool(&self) -> &Pool {
        &self.blocking
    }

    // ANCHOR: run_ready_tasks
    /// Runs at most `max` tasks from the local queue; returns how many ran.
    fn run_ready_tasks(&self, max: u32) -> u32 {
        let local = self.shared.local();
        let observing = self.observer.wants_labels();
        let mut ran = 0;
        while ran < max {
            let Some(task) = local.pop() else {
                break;
            };
            // Each poll gets a fresh cooperative budget (see `coop.rs`).
            let ran_now = if observing {
                self.run_observed(task) // traced and timed: see `observe/`
            } else {
                coop::with_budget(|| task.run())
            };
            if let Ran::Completed { slot } = ran_now {
                // Completed: forget it. The table's reference is dropped
                // outside the borrow, since it may be the last one.
                let finished = self.tasks.borrow_mut().remove(slot);
                drop(finished);
            }
            ran += 1;
        }
        if ran > 0 {
            trace!("ran {ran} task(s)");
        }
        ran
    }
    // ANCHOR_END: run_ready_tasks

    /// [`Core::run_ready_tasks`]'s poll when the trace or debug mode is on:
    /// the observer names the task, traces the poll and times it, and the
    /// tasks the poll woke are noted for the trace.
    // ANCHOR: run_observed
    #[inline(never)]
    fn run_observed(&self, task: TaskRef) -> Ran {
        let label = Polled::Task(task.header().describe());
        self.phase(Queued::ByTask, || {
            self.observer
                .poll(Some(label), || coop::with_budget(|| task.run()))
        })
    }
    // ANCHOR_END: run_observed

    /// Polls the main future (traced and timed, if asked to).
    fn poll_main<R>(&self, poll: impl FnOnce() -> R) -> R {
        context::enter_main();
        let label = self.observer.wants_labels().then(|| Polled::Main {
            block_on_at: self.running_since.get(),
        });
        self.phase(Queued::ByTask, || self.observer.poll(label, poll))
    }

    /// Runs one phase of the loop. With the trace on, the tasks the phase
    /// put in the run queue are noted with `why` (the loop knows: it just
    /// ran that phase); otherwise it is the phase and nothing more.
    #[inline]
    fn phase<R>(&self, why: Queued, phase: impl FnOnce() -> R) -> R {
        if !observe::tracing() {
            return phase();
        }
        let local = self.shared.local();
        let queued_before = local.len();
        let result = phase();
        for id in local.ids_from(queued_before) {
            observe::note_queued(id, why);
        }
        result
    }

    /// Sleeps in the reactor for at most `timeout` (`None`: until woken),
    /// following the sleep handshake in `queue.rs` unless the timeout is zero.
    fn park(&self, timeout: Option<Duration>) {
        #[cfg(feature = "explore")]
        if timeout.is_none() && self.reactor.borrow().clock_is_paused() && self.idle_rule() {
            return; // looked, or jumped the clock: no real sleep
        }
        let shared = &self.shared;
        let mut woken = self.woken.take();
        let mut reactor = self.reactor.borrow_mut();
        // The bed: the OS poll if a socket is watched, else the thread's
        // park token. It cannot change while we hold the reactor.
        let in_poll = reactor.watches_sockets();
        let turn = if timeout == Some(Duration::ZERO) {
            trace!("look at the OS without sleeping: {POLLS_PER_LOOK} polls since the last look");
            reactor.wait(timeout, &mut woken)
        } else if shared.prepare_park(in_poll) {
            if in_poll {
                trace!("nothing to run: sleep in the OS poll");
            } else {
                trace!("nothing to run and no socket to watch: park the thread");
            }
            let turn = reactor.wait(timeout, &mut woken);
            shared.finish_park();
            turn
        } else {
            self.woken.set(woken);
            return; // a wake arrived while we were deciding to sleep
        };
        drop(reactor);
        match turn {
            Ok(turn) => {
                trace!("{}", observe::describe_turn(&turn));
                let (sockets, timers) = woken.split_at_mut(turn.socket_wakers);
                self.phase(Queued::BySocket, || wake_gathered(sockets));
                self.phase(Queued::ByTimer, || wake_gathered(timers));
                woken.clear();
            }
            Err(e) => panic!("the event loop's poll failed and it cannot go on: {e}"),
        }
        self.woken.set(woken);
    }

    /// The live tasks, as `tasks()` shows them.
    fn task_infos(&self) -> Vec<crate::TaskInfo> {
        let table = self.tasks.borrow();
        observe::task_infos(table.iter().map(|task| task.header().snapshot()))
    }

    // ANCHOR: idle_rule
    /// The idle rule of a paused clock, stated once: when no task is ready,
    /// look at the OS without waiting; if that brought nothing and no other
    /// thread handed us anything, jump the clock to the next timer. With no
    /// timer and nothing in flight (no blocking job, no socket), nothing can
    /// ever wake the loop: that is a deadlock, and it panics saying so.
    /// Returns false when the loop should really sleep: nothing is due, but
    /// a blocking job or a socket may still wake it.
    ///
    /// The jump races with real I/O: a reply already on its way over a real
    /// socket loses to a timer the clock jumps to. Paused loops are for
    /// tests whose waits are timers and tasks.
    #[cfg(feature = "explore")]
    fn idle_rule(&self) -> bool {
        self.park(Some(Duration::ZERO)); // just look
        if self.shared.local().has_ready_work() {
            return true;
        }
        // In this order: a job's wake is queued before it stops counting.
        let in_flight = self.blocking.in_flight() > 0 || self.reactor.borrow().watches_sockets();
        if self.shared.has_injected() {
            return true;
        }
        if self.reactor.borrow_mut().jump_to_next_timer() {
            trace!("paused clock: nothing to run, jump to the next timer");
            self.park(Some(Duration::ZERO)); // fires it
            return true;
        }
        if in_flight {
            return false;
        }
        self.deadlock()
    }
    // ANCHOR_END: idle_rule

    /// Nothing is ready, no timer is left and nothing is in flight: no wake
    /// can ever come. Says which seed, and what each task waits on.
    #[cfg(feature = "explore")]
    fn deadlock(&self) -> ! {
        let seed = self.shared.local().explore_seed();
        let tasks = self.task_infos();
        let mut message = format!(
            "deadlock: the loop's clock is paused{}, no task is ready, no timer is left \
             and nothing is in flight (no blocking job, no socket), so nothing can wake it. ",
            seed.map_or(String::new(), |seed| format!(" (seed {seed})"))
        );
        if tasks.is_empty() {
            message
                .push_str("No task is left: the main future waits on something no task will do.");
        } else {
            message.push_str("The tasks, and what each waits on:");
            for task in &tasks {
                message.push_str(&format!("\n  {task}"));
            }
        }
        panic!("{message}");
    }

    /// Step 4 of the loop: queues the wakes other threads sent, and runs the
    /// releases of handles they dropped (see `handle.rs`).
    fn take_injected(&self) {
        let released = self.shared.drain_injected();
        for job in released {
            let _wakers = job(&mut self.reactor.borrow_mut());
            // ...dropped here, once the reactor is free again.
        }
    }

    /// Drops every task that is still pending, on this thread: the end of a
    /// loop. Dropping a future may wake, or even spawn, other tasks, so this
    /// repeats until the table stays empty. Then the blocking pool drops the
    /// jobs that never started and waits for the running ones.
    fn shutdown(&self) {
        loop {
            let tasks: Vec<TaskRef> = self.tasks.borrow_mut().drain();
            if tasks.is_empty() {
                break;
            }
            for task in &tasks {
                task.shutdown();
            }
        }
        drop(self.shared.close());
        self.blocking.shutdown();
    }
}

// ANCHOR: wake_gathered
/// Wakes wakers a turn of the reactor gathered, in the order the OS
/// reported them. A waker is user code and may panic: the panic is
/// reported, and the wakers after it are still woken.
fn wake_gathered(wakers: &mut [Waker]) {
    let mut next = 0;
    while next < wakers.len() {
        contain("a waker woken by the reactor", || {
            while next < wakers.len() {
                // Take the waker out, leaving a no-op one, so a panic in it
                // leaves the rest where the next round finds them.
                let waker = std::mem::replace(&mut wakers[next], Waker::noop().clone());
                next += 1;
                waker.wake();
            }
        });
    }
}
// ANCHOR_END: wake_gathered

/// The shared half of the loop running on this thread (for a handle to
/// keep); panics naming `what` if none is running.
#[track_caller]
#[cfg_attr(loom, allow(dead_code))]
pub(crate) fn current_shared(what: &str) -> Arc<Shared> {
    with_current(what, |core| core.shared.clone())
}

/// Calls `f` with the reactor of the loop running on this thread, if that
/// loop is the one `shared` belongs to and its reactor is not in use;
/// `None` otherwise.
#[inline]
#[cfg_attr(loom, allow(dead_code))]
pub(crate) fn with_reactor_of<R>(
    shared: &Arc<Shared>,
    f: impl FnOnce(&mut Reactor) -> R,
) -> Option<R> {
    CURRENT
        .try_with(|current| {
            let current = current.try_borrow().ok()?;
            let core = current
                .as_ref()
                .filter(|core| Arc::ptr_eq(&core.shared, shared))?;
            let mut reactor = core.reactor.try_borrow_mut().ok()?;
            Some(f(&mut reactor))
        })
        .ok()
        .flatten()
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("live_tasks", &self.core.tasks.borrow().len())
            .finish_non_exhaustive()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // Enter the loop so that destructors which reach for it (a socket
        // deregistering itself, say) find it. This may run while another
        // loop is current (a `Runtime` dropped inside a task, or unwinding
        // from a nested `block_on`), so it must not refuse: it swaps that
        // loop out and puts it back.
        let _running = Running::swap_in(&self.core);
        self.core.shutdown();
    }
}

/// Makes a loop this thread's current one until dropped, then restores
/// whatever was current before (normally nothing).
struct Running {
    core: Rc<Core>,
    previous: Option<Rc<Core>>,
    /// For `block_on`: who ran before, for context variables.
    context_before: Option<Option<u64>>,
    /// The loop's reports go to its destination while it runs.
    _reports: ReportingTo,
}

impl Running {
    /// For `block_on`: refuses, with a message that says what to do, if a
    /// loop is already running on this thread.
    fn enter(core: &Rc<Core>, at: &'static Location<'static>) -> Running {
        let outer = CURRENT.with(|current| current.borrow().clone());
        if let Some(outer) = outer {
            let outer_at = outer
                .running_since
                .get()
                .map_or_else(|| "an unknown place".to_string(), |l| l.to_string());
            panic!(
                "runtime::block_on was called at {at} while this thread is already \
                 running an event loop (started by block_on at {outer_at}). \
                 A loop cannot wait for a future inside itself: `.await` the \
                 future instead, or move blocking code to runtime::spawn_blocking."
            );
        }
        core.running_since.set(Some(at));
        let mut running = Running::swap_in(core);
        // The main future runs as "task 0" for context variables, and each
        // block_on starts from the defaults.
        context::forget(0);
        running.context_before = Some(context::set_current(Some(0)));
        running
    }

    fn swap_in(core: &Rc<Core>) -> Running {
        let previous = CURRENT.with(|current| current.replace(Some(core.clone())));
        Running {
            core: core.clone(),
            previous,
            context_before: None,
            _reports: observe::reporting_to(&core.reports),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.core.running_since.set(None);
        if let Some(before) = self.context_before {
            context::forget(0);
            context::set_current(before);
        }
        let previous = self.previous.take();
        let _ = CURRENT.try_with(|current| current.replace(previous));
    }
}

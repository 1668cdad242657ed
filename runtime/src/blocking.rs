//! The blocking pool: threads for work that would otherwise stall the loop,
//! behind `spawn_blocking` (asyncio's `loop.run_in_executor(None, f)`,
//! defined beside `spawn` in `executor.rs`). This file knows only jobs and
//! threads, nothing of tasks.
//!
//! A loop runs one poll at a time; a poll that blocks (reads a file, hashes
//! a password, sleeps) stops every task. Such work goes to this pool
//! instead, and the task awaits its result:
//!
//! - at most `Builder::blocking_threads` threads (default 512), started one
//!   at a time as the queue needs them (the growth rule below);
//! - a thread with no work for `Builder::thread_keep_alive` (default 10 s)
//!   retires;
//! - the result comes back through a [`oneshot`](crate::sync::oneshot)
//!   channel: a wake from another thread, through the injection queue;
//! - when the loop ends, queued jobs that never started are dropped, and the
//!   loop waits for the running ones to finish.
//!
//! # The growth rule: a lookout, not a thread per job
//!
//! A pool cannot tell a job that takes a microsecond from one that blocks for
//! a minute. Starting a thread for every job that finds no idle thread
//! (tokio's rule, and asyncio's up to `max_workers`) is right for the second
//! kind and ruinous for the first: a burst of 100,000 tiny jobs starts
//! hundreds of threads that then fight over one lock. So the pool watches
//! instead of guessing. While jobs wait in the queue and every other thread
//! is inside a job, one thread, the *lookout*, answers for the queue:
//!
//! - if no thread has taken a job since the lookout was called, or since it
//!   last looked, the queue is stuck behind jobs that block: the lookout takes
//!   the next job itself, and before running it calls a new lookout (an idle
//!   thread, or a new one);
//! - if jobs are being taken, the threads inside jobs keep up: the lookout
//!   looks again after [`LOOK_AGAIN`], and starts nothing.
//!
//! So a burst of tiny jobs runs on two threads, and jobs that block still get
//! a thread each, one thread start apart. A queued job has at most
//! `LOOK_AGAIN` to wait after the threads in front of it stop taking jobs.
//!
//! # The hand-off (no job stranded)
//!
//! All pool state sits behind one mutex. A submitter or lookout that calls a
//! thread claims an idle one (`idle -= 1; wakeups += 1`) and notifies, or
//! starts one. A waiting thread that wakes first checks `wakeups` (was I
//! claimed?), and retires only if it timed out *and*, under the same lock,
//! the queue is empty. So a job submitted while the last idle thread is
//! retiring is either seen by that thread, or finds it already gone and
//! starts a new one. The two guards (a claimed thread never retires; no
//! thread retires with a job queued) each cover the race on their own; the
//! loom model `pool_job_submitted_while_last_worker_retires` passes with
//! either one removed and fails, with a stranded job, when both are. The
//! model `pool_job_behind_a_blocking_job_gets_a_thread` checks the lookout.

use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use crate::shim::{lock, thread, wait_timeout, Condvar, Mutex, MutexGuard};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// How long the lookout waits between two looks at a queue that is moving.
const LOOK_AGAIN: Duration = Duration::from_micros(500);

/// A loop's blocking pool. Dropping it does not stop it: call `shutdown`.
#[derive(Clone)]
pub struct Pool {
    inner: Arc<PoolInner>,
}

struct PoolInner {
    state: Mutex<PoolState>,
    /// Idle threads wait here for a job.
    work: Condvar,
    /// The lookout waits here between looks.
    look: Condvar,
    /// `shutdown` waits here for the last thread to exit.
    all_exited: Condvar,
    max_threads: usize,
    keep_alive: Duration,
}

// ANCHOR: pool_state
struct PoolState {
    queue: VecDeque<Job>,
    /// Threads alive (running a job, idle, looking out, or just started).
    threads: usize,
    /// Threads waiting for work and not yet claimed.
    idle: usize,
    /// Idle threads claimed and notified, not yet awake.
    wakeups: usize,
    /// A thread answers for the queue: called (claimed or starting), or
    /// looking. At most one.
    lookout: bool,
    /// Jobs taken from the queue so far: the lookout's sign of progress.
    taken: u64,
    /// `taken` when the lookout was called, or when it last looked.
    taken_at_last_look: u64,
    /// Jobs submitted and not yet finished (queued or running).
    in_flight: usize,
    shutdown: bool,
}
// ANCHOR_END: pool_state

impl Pool {
    /// A pool of at most `max_threads` threads (at least 1), each retiring
    /// after `keep_alive` without work.
    pub fn new(max_threads: usize, keep_alive: Duration) -> Pool {
        assert!(max_threads > 0, "a blocking pool needs at least one thread");
        Pool {
            inner: Arc::new(PoolInner {
                state: Mutex::new(PoolState {
                    queue: VecDeque::new(),
                    threads: 0,
                    idle: 0,
                    wakeups: 0,
                    lookout: false,
                    taken: 0,
                    taken_at_last_look: 0,
                    in_flight: 0,
                    shutdown: false,
                }),
                work: Condvar::new(),
                look: Condvar::new(),
                all_exited: Condvar::new(),
                max_threads,
                keep_alive,
            }),
        }
    }

    // ANCHOR: submit
    /// Queues `job`, and calls a lookout if the queue has none.
    pub fn submit(&self, job: Job) {
        let mut state = lock(&self.inner.state);
        if state.shutdown {
            return; // the loop is ending: the job is dropped unrun
        }
        state.queue.push_back(job);
        state.in_flight += 1;
        if state.queue.len() == 1 && state.lookout {
            // The lookout is watching a queue that emptied meanwhile: this
            // job is new, so look at it now rather than after `LOOK_AGAIN`.
            state.taken_at_last_look = state.taken;
            self.inner.look.notify_one();
        }
        self.call_lookout(state);
    }
    // ANCHOR_END: submit

    // ANCHOR: call_lookout
    /// Makes sure someone answers for the queue: claims an idle thread or
    /// starts one, unless a lookout exists, the queue is empty, or the pool
    /// is at its limit (then jobs wait for a running one to end).
    fn call_lookout(&self, mut state: MutexGuard<'_, PoolState>) {
        if state.lookout || state.queue.is_empty() || state.shutdown {
            return;
        }
        state.taken_at_last_look = state.taken;
        if state.idle > 0 {
            state.lookout = true;
            state.idle -= 1;
            state.wakeups += 1;
            self.inner.work.notify_one();
        } else if state.threads < self.inner.max_threads {
            state.lookout = true;
            state.threads += 1;
            drop(state);
            self.start_thread();
        }
    }
    // ANCHOR_END: call_lookout

    fn start_thread(&self) {
        let pool = self.clone();
        let started = thread::Builder::new()
            .name("looplet-blocking".to_string())
            .spawn(move || pool.run_thread());
        if let Err(e) = started {
            let mut state = lock(&self.inner.state);
            state.threads -= 1;
            state.lookout = false;
            if state.threads == 0 {
                // Nobody is left to run the queue: say so rather than hang.
                panic!("spawn_blocking could not start a pool thread: {e}");
            }
            // Otherwise the jobs wait for one of the running threads.
        }
    }

    // ANCHOR: worker
    /// The body of a pool thread. It starts as the lookout (it was started
    /// to be one), then runs jobs, waits idle, or looks out, until no job
    /// comes for `keep_alive` or the pool shuts down.
    fn run_thread(&self) {
        let inner = &*self.inner;
        let mut state = lock(&inner.state);
        let mut looking = true;
        loop {
            if state.shutdown {
                break;
            }
            if looking {
                // The lookout: take a job if the queue is stuck, else look
                // again later. An empty queue needs no lookout.
                if !state.queue.is_empty() && state.taken != state.taken_at_last_look {
                    state.taken_at_last_look = state.taken;
                    state = wait_timeout(&inner.look, &inner.state, state, LOOK_AGAIN).0;
                    continue;
                }
                state.lookout = false;
                looking = false;
            }
            if let Some(job) = state.queue.pop_front() {
                state.taken += 1;
                self.call_lookout(state); // for the jobs left behind this one
                                          // A job's panic is caught inside the job (spawn_blocking);
                                          // this is a second net so a thread is never lost to one.
                let _ = panic::catch_unwind(AssertUnwindSafe(job));
                state = lock(&inner.state);
                state.in_flight -= 1;
                continue;
            }
            state.idle += 1;
            let (guard, timed_out) =
                wait_timeout(&inner.work, &inner.state, state, inner.keep_alive);
            state = guard;
            if state.wakeups > 0 {
                state.wakeups -= 1; // claimed: we are the lookout now
                looking = true;
                continue;
            }
            state.idle -= 1;
            if timed_out && state.queue.is_empty() {
                break; // retire: decided under the lock a submitter takes too
            }
        }
        state.threads -= 1;
        if state.threads == 0 {
            inner.all_exited.notify_all();
        }
    }
    // ANCHOR_END: worker

    /// Jobs submitted and not yet finished. A job's own last act (sending
    /// its result, which wakes its task) comes before it stops counting.
    #[cfg_attr(not(feature = "explore"), allow(dead_code))]
    pub fn in_flight(&self) -> usize {
        lock(&self.inner.state).in_flight
    }

    /// Ends the pool: drops the jobs still queued and waits until every
    /// thread, including those running a job, has exited.
    pub fn shutdown(&self) {
        let mut state = lock(&self.inner.state);
        state.shutdown = true;
        let never_started = std::mem::take(&mut state.queue);
        state.in_flight -= never_started.len();
        self.inner.work.notify_all();
        self.inner.look.notify_all();
        while state.threads > 0 {
            state = match self.inner.all_exited.wait(state) {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
        }
        drop(state);
        drop(never_started); // user closures: dropped outside the lock
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("max_threads", &self.inner.max_threads)
            .field("keep_alive", &self.inner.keep_alive)
            .finish_non_exhaustive()
    }
}

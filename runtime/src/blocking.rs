//! The blocking pool: threads for work that would otherwise stall the loop,
//! behind `spawn_blocking` (asyncio's `loop.run_in_executor(None, f)`,
//! defined beside `spawn` in `executor.rs`). This file knows only jobs and
//! threads, nothing of tasks.
//!
//! A loop runs one poll at a time; a poll that blocks (reads a file, hashes
//! a password, sleeps) stops every task. Such work goes to this pool
//! instead, and the task awaits its result:
//!
//! - threads start on demand, up to `Builder::blocking_threads` (default 512);
//! - a thread with no work for `Builder::thread_keep_alive` (default 10 s)
//!   retires;
//! - jobs past the limit wait in a FIFO queue;
//! - the result comes back through a [`oneshot`](crate::sync::oneshot)
//!   channel: a wake from another thread, through the injection queue;
//! - when the loop ends, queued jobs that never started are dropped, and the
//!   loop waits for the running ones to finish.
//!
//! # The hand-off (no job stranded)
//!
//! All pool state sits behind one mutex: the queue, the number of threads,
//! how many are idle, and how many idle ones were already claimed by a
//! submitter (`wakeups`). A submitter that finds an idle thread claims it
//! (`idle -= 1; wakeups += 1`) and notifies; otherwise it starts a thread if
//! it may. A waiting thread that wakes first checks `wakeups` (was I
//! claimed?), and retires only if it timed out *and*, under the same lock,
//! the queue is empty. So a job submitted while the last idle thread is
//! retiring is either seen by that thread, or finds it already gone and
//! starts a new one. The two guards (a claimed thread never retires; no
//! thread retires with a job queued) each cover the race on their own; the
//! loom model `pool_job_submitted_while_last_worker_retires` passes with
//! either one removed and fails, with a stranded job, when both are.

use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use crate::shim::{lock, thread, wait_timeout, Condvar, Mutex};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A loop's blocking pool. Dropping it does not stop it: call `shutdown`.
#[derive(Clone)]
pub struct Pool {
    inner: Arc<PoolInner>,
}

struct PoolInner {
    state: Mutex<PoolState>,
    /// Idle threads wait here for a job.
    work: Condvar,
    /// `shutdown` waits here for the last thread to exit.
    all_exited: Condvar,
    max_threads: usize,
    keep_alive: Duration,
}

// ANCHOR: pool_state
struct PoolState {
    queue: VecDeque<Job>,
    /// Threads alive (running a job, idle, or just started).
    threads: usize,
    /// Threads waiting for work and not yet claimed by a submitter.
    idle: usize,
    /// Idle threads a submitter claimed and notified, not yet awake.
    wakeups: usize,
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
                    shutdown: false,
                }),
                work: Condvar::new(),
                all_exited: Condvar::new(),
                max_threads,
                keep_alive,
            }),
        }
    }

    // ANCHOR: submit
    /// Queues `job`, and wakes an idle thread or starts one if the limit
    /// allows; otherwise the job waits for a thread to finish its current one.
    pub fn submit(&self, job: Job) {
        let mut state = lock(&self.inner.state);
        if state.shutdown {
            return; // the loop is ending: the job is dropped unrun
        }
        state.queue.push_back(job);
        if state.idle > 0 {
            state.idle -= 1;
            state.wakeups += 1;
            self.inner.work.notify_one();
        } else if state.threads < self.inner.max_threads {
            state.threads += 1;
            drop(state);
            self.start_thread();
        }
    }
    // ANCHOR_END: submit

    fn start_thread(&self) {
        let pool = self.clone();
        let started = thread::Builder::new()
            .name("looplet-blocking".to_string())
            .spawn(move || pool.run_worker());
        if let Err(e) = started {
            let mut state = lock(&self.inner.state);
            state.threads -= 1;
            if state.threads == 0 {
                // Nobody is left to run the queue: say so rather than hang.
                panic!("spawn_blocking could not start a pool thread: {e}");
            }
            // Otherwise the job waits for one of the running threads.
        }
    }

    // ANCHOR: worker
    /// The body of a pool thread: run jobs until none comes for
    /// `keep_alive`, or the pool shuts down.
    fn run_worker(&self) {
        let inner = &*self.inner;
        let mut state = lock(&inner.state);
        loop {
            if let Some(job) = state.queue.pop_front() {
                drop(state);
                // A job's panic is caught inside the job (spawn_blocking);
                // this is a second net so a thread is never lost to one.
                let _ = panic::catch_unwind(AssertUnwindSafe(job));
                state = lock(&inner.state);
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let (guard, timed_out) =
                wait_timeout(&inner.work, &inner.state, state, inner.keep_alive);
            state = guard;
            if state.wakeups > 0 {
                state.wakeups -= 1; // a submitter claimed us: go take the job
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

    /// Ends the pool: drops the jobs still queued and waits until every
    /// thread, including those running a job, has exited.
    pub fn shutdown(&self) {
        let mut state = lock(&self.inner.state);
        state.shutdown = true;
        let never_started = std::mem::take(&mut state.queue);
        self.inner.work.notify_all();
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

//! `spawn_blocking` and the blocking pool through the public API.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use runtime::time::sleep;
use runtime::{block_on, gather, spawn, spawn_blocking, Builder};
use tests::with_deadline;

const DEADLINE: Duration = Duration::from_secs(60);

#[test]
fn a_job_runs_off_the_loop_thread() {
    let loop_thread = thread::current().id();
    let job_thread = block_on(async { spawn_blocking(|| thread::current().id()).await }).unwrap();
    assert_ne!(job_thread, loop_thread);
}

#[test]
fn loop_tasks_make_progress_while_a_job_blocks() {
    with_deadline(DEADLINE, || {
        block_on(async {
            let ticks = Rc::new(Cell::new(0));
            let counter = {
                let ticks = ticks.clone();
                spawn(async move {
                    loop {
                        sleep(Duration::from_millis(5)).await;
                        ticks.set(ticks.get() + 1);
                    }
                })
            };
            spawn_blocking(|| thread::sleep(Duration::from_millis(300)))
                .await
                .unwrap();
            counter.abort();
            assert!(
                ticks.get() >= 10,
                "only {} ticks of 5 ms during a 300 ms job: the loop was blocked",
                ticks.get()
            );
        })
    });
}

#[test]
fn blocking_threads_bounds_concurrency_and_loses_no_job() {
    with_deadline(DEADLINE, || {
        let rt = Builder::new().blocking_threads(2).build().unwrap();
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let results = rt.block_on(async {
            gather((0..10).map(|i| {
                let (running, most) = (running.clone(), most.clone());
                spawn_blocking(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                    i
                })
            }))
            .await
        });
        let values: Vec<i32> = results.into_iter().map(Result::unwrap).collect();
        assert_eq!(values, (0..10).collect::<Vec<_>>());
        let most = most.load(Ordering::SeqCst);
        assert!(
            most <= 2,
            "{most} jobs ran at once with blocking_threads(2)"
        );
        assert_eq!(most, 2, "two threads were allowed and should both be used");
    });
}

/// Jobs that block until all of them run at once each need a thread: the
/// pool's lookout sees the queue stuck behind them and grows it one thread
/// at a time, however few jobs are taken meanwhile.
#[test]
fn jobs_that_wait_for_each_other_each_get_a_thread() {
    with_deadline(DEADLINE, || {
        const JOBS: usize = 64;
        let all_running = Arc::new(std::sync::Barrier::new(JOBS));
        let done = block_on(async {
            gather((0..JOBS).map(|_| {
                let all_running = all_running.clone();
                spawn_blocking(move || all_running.wait())
            }))
            .await
        });
        assert_eq!(done.into_iter().filter(Result::is_ok).count(), JOBS);
    });
}

/// A job queued behind one that blocks for good does not wait for it: the
/// lookout takes it after one look.
#[test]
fn a_job_behind_a_stuck_job_runs_on_another_thread() {
    with_deadline(DEADLINE, || {
        let (release, stuck) = std::sync::mpsc::channel::<()>();
        block_on(async {
            let first = spawn_blocking(move || stuck.recv());
            let second = spawn_blocking(|| 2);
            assert_eq!(second.await.unwrap(), 2);
            release.send(()).unwrap();
            first.await.unwrap().unwrap();
        });
    });
}

#[test]
fn ten_thousand_tiny_jobs_all_complete() {
    with_deadline(DEADLINE, || {
        let sum: u64 =
            block_on(async { gather((0..10_000u64).map(|i| spawn_blocking(move || i))).await })
                .into_iter()
                .map(Result::unwrap)
                .sum();
        assert_eq!(sum, (0..10_000).sum());
    });
}

#[test]
fn a_panicking_job_is_a_panic_error_and_its_thread_lives_on() {
    with_deadline(DEADLINE, || {
        let rt = Builder::new().blocking_threads(1).build().unwrap();
        rt.block_on(async {
            let first = spawn_blocking(|| thread::current().id()).await.unwrap();
            let err = spawn_blocking(|| -> () { panic!("job failed") })
                .await
                .unwrap_err();
            assert!(err.is_panic());
            assert_eq!(err.into_panic().downcast_ref::<&str>(), Some(&"job failed"));
            // With one thread allowed, the same thread must still serve.
            let after = spawn_blocking(|| thread::current().id()).await.unwrap();
            assert_eq!(first, after, "the pool lost its thread to a panic");
        });
    });
}

#[test]
fn zero_blocking_threads_is_a_clear_error() {
    let err = Builder::new().blocking_threads(0).build().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("at least one"), "{err}");
}

/// Sets its flag when dropped.
struct Dropped(Arc<AtomicBool>);
impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn at_loop_end_queued_jobs_are_dropped_and_running_ones_waited_for() {
    with_deadline(DEADLINE, || {
        let finished = Arc::new(AtomicBool::new(false));
        let queued_ran = Arc::new(AtomicBool::new(false));
        let queued_dropped = Arc::new(AtomicBool::new(false));
        let rt = Builder::new().blocking_threads(1).build().unwrap();
        rt.block_on({
            let (finished, queued_ran) = (finished.clone(), queued_ran.clone());
            let guard = Dropped(queued_dropped.clone());
            async move {
                drop(spawn_blocking(move || {
                    thread::sleep(Duration::from_millis(100));
                    finished.store(true, Ordering::SeqCst);
                }));
                drop(spawn_blocking(move || {
                    let _guard = guard;
                    queued_ran.store(true, Ordering::SeqCst);
                }));
                sleep(Duration::from_millis(10)).await; // the first job is running
            }
        });
        let start = Instant::now();
        drop(rt);
        assert!(
            finished.load(Ordering::SeqCst),
            "the running job was waited for"
        );
        assert!(start.elapsed() >= Duration::from_millis(50));
        assert!(
            !queued_ran.load(Ordering::SeqCst),
            "a queued job ran after the end"
        );
        assert!(
            queued_dropped.load(Ordering::SeqCst),
            "the queued job was dropped"
        );
    });
}

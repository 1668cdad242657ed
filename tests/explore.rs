//! Exploring schedules (the cargo feature `explore`): a seed chooses the
//! order of ready tasks. Run with
//! `cargo test -p tests --features explore --test explore`.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::rc::Rc;

use runtime::{spawn, yield_now, Builder, Runtime};

/// A loop that lets `seed` choose (or FIFO, with `None`).
fn runtime(seed: Option<u64>) -> Runtime {
    let mut builder = Builder::new();
    if let Some(seed) = seed {
        builder.explore_seed(seed);
    }
    builder.build().unwrap()
}

/// Five tasks, each yielding three times; the order in which their polls
/// ran, as task numbers.
fn poll_order(seed: Option<u64>) -> Vec<u8> {
    runtime(seed).block_on(async {
        let order = Rc::new(RefCell::new(Vec::new()));
        let tasks: Vec<_> = (0..5u8)
            .map(|n| {
                let order = order.clone();
                spawn(async move {
                    for _ in 0..3 {
                        order.borrow_mut().push(n);
                        yield_now().await;
                    }
                    order.borrow_mut().push(n);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        order.take()
    })
}

#[test]
fn without_a_seed_the_order_is_first_in_first_out() {
    let order = poll_order(None);
    let round: Vec<u8> = (0..5).collect();
    assert_eq!(order, round.repeat(4));
}

#[test]
fn one_seed_gives_the_same_poll_order_every_time() {
    let first = poll_order(Some(37));
    assert_eq!(first.len(), 20);
    for _ in 0..5 {
        assert_eq!(poll_order(Some(37)), first);
    }
}

#[test]
fn twenty_seeds_give_more_than_one_order() {
    let orders: BTreeSet<Vec<u8>> = (0..20).map(|seed| poll_order(Some(seed))).collect();
    assert!(
        orders.len() >= 2,
        "20 seeds gave {} order(s): the seed does not choose",
        orders.len()
    );
}

#[test]
fn the_seed_is_known_inside_its_loop_only() {
    assert_eq!(runtime::explore::seed(), None);
    assert_eq!(
        runtime(Some(9)).block_on(async { runtime::explore::seed() }),
        Some(9)
    );
    assert_eq!(
        runtime(None).block_on(async { runtime::explore::seed() }),
        None
    );
}

// ANCHOR: cache_bug
/// A cache with a check-then-act across an `.await`: `get` looks, and if
/// the value is missing it loads it, which takes a moment (a `yield_now`
/// here, a network call in life). Two callers can both see it missing.
struct Cache {
    value: Cell<Option<u32>>,
    loads: Cell<u32>,
}

impl Cache {
    async fn get(&self) -> u32 {
        if let Some(value) = self.value.get() {
            return value;
        }
        yield_now().await; // the load
        self.loads.set(self.loads.get() + 1);
        self.value.set(Some(42));
        42
    }
}

/// One task reads the cache at once; another a moment later, expecting
/// the first to have filled it. How many times the value was loaded.
async fn loads() -> u32 {
    let cache = Rc::new(Cache {
        value: Cell::new(None),
        loads: Cell::new(0),
    });
    let first = spawn({
        let cache = cache.clone();
        async move { cache.get().await }
    });
    let later = spawn({
        let cache = cache.clone();
        async move {
            yield_now().await;
            cache.get().await
        }
    });
    assert_eq!((first.await.unwrap(), later.await.unwrap()), (42, 42));
    cache.loads.get()
}

/// True if the value was loaded only once, on a loop `seed` schedules.
fn loaded_once(seed: Option<u64>) -> bool {
    runtime(seed).block_on(loads()) == 1
}
// ANCHOR_END: cache_bug

#[test]
fn an_order_bug_passes_first_in_first_out_and_a_seed_finds_it() {
    // FIFO runs the first task's load before the later task looks: the
    // test passes, every time.
    assert!(loaded_once(None));
    // Some seed lets the later task look while the load is under way.
    let failing = (0..100).find(|&seed| !loaded_once(Some(seed)));
    let seed = failing.expect("no seed in 100 found the double load");
    // And that seed fails again: it replays.
    assert!(!loaded_once(Some(seed)), "seed {seed} did not replay");
}

/// The cache test as a body for `explore::check`: it fails when the value
/// was loaded twice.
async fn cache_loads_once() {
    assert_eq!(loads().await, 1, "the value was loaded twice");
}

/// What `check` panicked with.
fn check_failure(runs: usize, test: fn() -> std::pin::Pin<Box<dyn Future<Output = ()>>>) -> String {
    let outcome = std::panic::catch_unwind(|| runtime::explore::check(runs, test));
    let payload = outcome.expect_err("check should have failed");
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(_) => panic!("check's panic is a String"),
    }
}

use std::future::Future;

#[test]
fn check_finds_the_order_bug_and_names_the_seed_and_the_replay() {
    let message = check_failure(100, || Box::pin(cache_loads_once()));
    assert!(message.contains("the test failed with seed "), "{message}");
    assert!(message.contains("the value was loaded twice"), "{message}");
    assert!(message.contains("scheduling choices"), "{message}");
    assert!(
        message.contains("LOOPLET_SEED=") && message.contains("cargo test"),
        "{message}"
    );
}

/// Run by the next test in a child process, with `LOOPLET_SEED` set: the
/// replay of a failing seed. Ignored in a normal run.
#[test]
#[ignore = "run by the_replay_line_reproduces_the_failure, with LOOPLET_SEED set"]
fn replay_target() {
    runtime::explore::check(100, cache_loads_once);
}

#[test]
fn the_replay_line_reproduces_the_failure() {
    let message = check_failure(100, || Box::pin(cache_loads_once()));
    let seed: u64 = message
        .split("LOOPLET_SEED=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| panic!("no seed in the replay line: {message}"));
    // The replay line's command, as this test binary runs it: the one test,
    // with the seed in the environment.
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "replay_target",
            "--exact",
            "--include-ignored",
            "--test-threads=1",
        ])
        .env("LOOPLET_SEED", seed.to_string())
        .output()
        .unwrap();
    let output = String::from_utf8_lossy(&child.stdout).to_string()
        + &String::from_utf8_lossy(&child.stderr);
    assert!(!child.status.success(), "the replay passed:\n{output}");
    assert!(
        output.contains(&format!("the test failed with seed {seed},")),
        "the replay did not fail on seed {seed}:\n{output}"
    );
    // One seed only: the replay made the same choices as the failure.
    assert!(!output.contains("cannot be replayed"), "{output}");
}

#[test]
fn a_test_that_depends_on_more_than_the_seed_is_reported_as_such() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    // Fails on its first run only: what a test reading the real clock or
    // real randomness does.
    let message = check_failure(5, || {
        Box::pin(async {
            if RUNS.fetch_add(1, Ordering::SeqCst) == 0 {
                panic!("first run only");
            }
        })
    });
    assert!(message.contains("seed 0"), "{message}");
    assert!(message.contains("cannot be replayed"), "{message}");
    assert!(message.contains("passed"), "{message}");
}

// ------------------------------------------------------------ the paused clock

fn paused() -> Runtime {
    Builder::new().start_paused(true).build().unwrap()
}

#[test]
fn a_paused_loop_sleeps_an_hour_in_no_time() {
    use std::time::{Duration, Instant};
    let wall = Instant::now();
    let advanced = paused().block_on(async {
        let start = runtime::time::now();
        runtime::time::sleep(Duration::from_secs(3600)).await;
        runtime::time::now() - start
    });
    assert!(advanced >= Duration::from_secs(3600), "{advanced:?}");
    assert!(advanced < Duration::from_secs(3601), "{advanced:?}");
    assert!(
        wall.elapsed() < Duration::from_secs(1),
        "{:?}",
        wall.elapsed()
    );
}

#[test]
fn a_paused_clock_stands_still_while_tasks_run_and_timers_fire_in_order() {
    use std::time::Duration;
    paused().block_on(async {
        let start = runtime::time::now();
        for _ in 0..1000 {
            yield_now().await;
        }
        assert_eq!(runtime::time::now(), start, "the clock moved by itself");
        let log = Rc::new(RefCell::new(Vec::new()));
        let tasks: Vec<_> = [30u64, 10, 20, 10]
            .into_iter()
            .enumerate()
            .map(|(n, secs)| {
                let log = log.clone();
                spawn(async move {
                    runtime::time::sleep(Duration::from_secs(secs)).await;
                    log.borrow_mut().push((n, runtime::time::now() - start));
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let secs = |s| Duration::from_secs(s);
        assert_eq!(
            log.take(),
            [(1, secs(10)), (3, secs(10)), (2, secs(20)), (0, secs(30))],
            "timers fire in (deadline, creation) order, each at its deadline"
        );
        // A timeout on a paused clock: exactly its length, in no real time.
        let before = runtime::time::now();
        let result = runtime::time::timeout(secs(5), runtime::time::sleep(secs(60))).await;
        assert!(result.is_err());
        assert_eq!(runtime::time::now() - before, secs(5));
    });
}

#[test]
fn a_paused_loop_waits_for_a_blocking_job_instead_of_calling_it_a_deadlock() {
    let value = paused().block_on(async {
        runtime::spawn_blocking(|| {
            std::thread::sleep(std::time::Duration::from_millis(50));
            7
        })
        .await
        .unwrap()
    });
    assert_eq!(value, 7);
}

#[test]
fn a_deadlock_panics_naming_the_seed_and_what_each_task_waits_on() {
    let outcome = std::panic::catch_unwind(|| {
        Builder::new()
            .start_paused(true)
            .explore_seed(5)
            .build()
            .unwrap()
            .block_on(async {
                let never = Rc::new(runtime::sync::Event::new());
                let stuck = runtime::spawn_named("stuck on an event", {
                    let never = never.clone();
                    async move { never.wait().await }
                });
                stuck.await.unwrap();
            })
    });
    let payload = outcome.expect_err("a deadlock should panic");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(message.contains("deadlock"), "{message}");
    assert!(message.contains("(seed 5)"), "{message}");
    assert!(message.contains("stuck on an event"), "{message}");
}

#[test]
fn check_reports_a_deadlock_with_its_seed() {
    let message = check_failure(3, || {
        Box::pin(async {
            let never = runtime::sync::Event::new();
            never.wait().await;
        })
    });
    assert!(message.contains("seed 0"), "{message}");
    assert!(message.contains("deadlock"), "{message}");
}

// ------------------------------------------------------------ PCT

// ANCHOR: late_reader
/// A bug of depth 1 that a uniform shuffle almost never shows: `reader`
/// assumes it runs before `worker` has finished its 20 steps. A uniform
/// shuffle lets `worker` run all 20 first with odds of about 1 in 2^20;
/// PCT gives `worker` the higher priority in half its runs, and then it
/// runs to the end before `reader` ever starts.
async fn reader_sees_the_worker_unfinished() {
    let done = Rc::new(Cell::new(false));
    let worker = spawn({
        let done = done.clone();
        async move {
            for _ in 0..20 {
                yield_now().await;
            }
            done.set(true);
        }
    });
    let reader = spawn({
        let done = done.clone();
        async move { assert!(!done.get(), "the reader came after the worker finished") }
    });
    worker.await.unwrap();
    reader.await.unwrap();
}
// ANCHOR_END: late_reader

#[test]
fn pct_finds_in_a_few_runs_a_bug_a_uniform_shuffle_misses_in_a_hundred() {
    // Uniform: 100 seeds, no failure.
    runtime::explore::check(100, reader_sees_the_worker_unfinished);
    // PCT, depth 1: found within 20 runs (about half of all runs fail).
    let outcome = std::panic::catch_unwind(|| {
        runtime::explore::check_pct(20, 1, reader_sees_the_worker_unfinished)
    });
    let message = outcome
        .expect_err("PCT should find the late reader")
        .downcast::<String>()
        .map(|m| *m)
        .unwrap_or_default();
    assert!(message.contains("(PCT, depth 1)"), "{message}");
    assert!(
        message.contains("the reader came after the worker finished"),
        "{message}"
    );
}

#[test]
fn pct_lets_a_spinning_task_through() {
    // The spinner waits, yielding, for a flag another task sets. Strict
    // priorities with the spinner on top would spin for ever; PCT drops a
    // task that keeps winning while others wait.
    runtime::explore::check_pct(20, 2, || async {
        let flag = Rc::new(Cell::new(false));
        let spinner = spawn({
            let flag = flag.clone();
            async move {
                while !flag.get() {
                    yield_now().await;
                }
            }
        });
        let setter = spawn({
            let flag = flag.clone();
            async move { flag.set(true) }
        });
        spinner.await.unwrap();
        setter.await.unwrap();
    });
}

#[test]
fn pct_finds_the_cache_bug_and_replays_it() {
    let outcome = std::panic::catch_unwind(|| runtime::explore::check_pct(50, 2, cache_loads_once));
    let message = outcome
        .expect_err("PCT should find the double load")
        .downcast::<String>()
        .map(|m| *m)
        .unwrap_or_default();
    assert!(message.contains("the value was loaded twice"), "{message}");
    assert!(!message.contains("cannot be replayed"), "{message}");
}

#[test]
fn a_failure_is_shrunk_to_the_choices_it_needs() {
    // The double load needs one choice against first in, first out: the
    // basket's look before the page's fetch is done.
    let message = check_failure(100, || Box::pin(cache_loads_once()));
    assert!(
        message.contains("shrunk: it still fails with 1 of its"),
        "{message}"
    );
}

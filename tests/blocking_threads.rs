//! How many threads the pool starts and keeps. These count the process's
//! threads, so they are alone in their own test binary (no other test's
//! threads come and go while they count) and take turns with `one_at_a_time`.

use std::time::{Duration, Instant};

use runtime::{gather, spawn_blocking, Builder};

static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// Threads of this process named by the pool ("looplet-blocking", cut to the
/// 15 bytes Linux keeps).
fn pool_threads() -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim_end().starts_with("looplet-blockin"))
        .count()
}

#[test]
fn idle_threads_retire_after_the_keep_alive() {
    let _turn = one_at_a_time();
    if !std::path::Path::new("/proc/self/task").exists() {
        eprintln!("no /proc here: cannot count threads, skipping");
        return;
    }
    let rt = Builder::new()
        .blocking_threads(4)
        .thread_keep_alive(Duration::from_millis(100))
        .build()
        .unwrap();
    assert_eq!(pool_threads(), 0, "threads start on demand, not up front");
    rt.block_on(async {
        gather((0..4).map(|_| spawn_blocking(|| std::thread::sleep(Duration::from_millis(50)))))
            .await
    });
    let started = pool_threads();
    assert!(
        started >= 2,
        "4 concurrent jobs started only {started} threads"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while pool_threads() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        pool_threads(),
        0,
        "idle threads did not retire after 100 ms"
    );
    // The pool starts threads again when work comes back.
    assert_eq!(
        rt.block_on(async { spawn_blocking(|| 9).await }).unwrap(),
        9
    );
}

/// A burst of tiny jobs on a cold pool: a thread per job that finds no idle
/// thread would start hundreds; the lookout starts one more only when the
/// queue stops moving. On an idle machine this starts 2 threads; the bound
/// leaves room for a busy one, where a descheduled thread looks stuck.
#[test]
fn a_burst_of_tiny_jobs_runs_on_a_few_threads() {
    let _turn = one_at_a_time();
    if !std::path::Path::new("/proc/self/task").exists() {
        eprintln!("no /proc here: cannot count threads, skipping");
        return;
    }
    let rt = Builder::new().build().unwrap();
    let sum: u64 = rt.block_on(async {
        let jobs: Vec<_> = (0..20_000u64).map(|i| spawn_blocking(move || i)).collect();
        let mut sum = 0;
        for job in jobs {
            sum += job.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, (0..20_000).sum());
    let started = pool_threads(); // the keep-alive (10 s) keeps them all
    assert!(
        (1..=32).contains(&started),
        "20,000 tiny jobs started {started} pool threads"
    );
    // The loop's end waits for its threads to finish their work; let them
    // exit too, so the next test counts from zero.
    drop(rt);
    let deadline = Instant::now() + Duration::from_secs(10);
    while pool_threads() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

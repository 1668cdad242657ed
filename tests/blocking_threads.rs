//! Idle pool threads retire after the keep-alive. This counts the process's
//! threads, so it is alone in its own test binary: no other test's threads
//! come and go while it counts.

use std::time::{Duration, Instant};

use runtime::{gather, spawn_blocking, Builder};

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

//! `sleep`, `timeout` and `interval` through the public API.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use runtime::time::{interval, sleep, sleep_until, timeout, Elapsed};
use runtime::{block_on, gather, spawn, yield_now};
use tests::with_deadline;

const DEADLINE: Duration = Duration::from_secs(60);

#[test]
fn sleep_never_returns_early() {
    for ms in [1, 10, 100] {
        let d = Duration::from_millis(ms);
        let start = Instant::now();
        block_on(sleep(d));
        let took = start.elapsed();
        assert!(took >= d, "sleep({d:?}) returned after {took:?}");
    }
}

#[test]
fn sleep_until_a_past_deadline_is_ready_at_once() {
    block_on(sleep_until(Instant::now() - Duration::from_millis(1)));
}

#[test]
fn a_hundred_thousand_random_sleeps_all_finish_and_none_early() {
    with_deadline(DEADLINE, || {
        let early = Rc::new(Cell::new(0usize));
        let start = Instant::now();
        let done = block_on({
            let early = early.clone();
            async move {
                let mut seed = 0x9e37_79b9_7f4a_7c15u64;
                let sleeps = (0..100_000).map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let d = Duration::from_micros(seed % 200_000);
                    let early = early.clone();
                    async move {
                        let start = Instant::now();
                        sleep(d).await;
                        if start.elapsed() < d {
                            early.set(early.get() + 1);
                        }
                    }
                });
                gather(sleeps).await.len()
            }
        });
        assert_eq!(done, 100_000);
        assert_eq!(early.get(), 0, "some sleeps woke before their deadline");
        // They ran concurrently: about the longest, not the sum.
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{:?}",
            start.elapsed()
        );
    });
}

#[test]
fn timeout_elapses_on_a_pending_future() {
    let start = Instant::now();
    let result = block_on(timeout(
        Duration::from_millis(20),
        std::future::pending::<()>(),
    ));
    assert_eq!(result, Err(Elapsed));
    assert!(start.elapsed() >= Duration::from_millis(20));
    assert!(!Elapsed.to_string().is_empty());
}

#[test]
fn timeout_passes_a_ready_future_through() {
    assert_eq!(
        block_on(timeout(Duration::from_millis(1), async { 7 })),
        Ok(7)
    );
    let slow_but_in_time = block_on(timeout(Duration::from_secs(10), async {
        sleep(Duration::from_millis(5)).await;
        "made it"
    }));
    assert_eq!(slow_but_in_time, Ok("made it"));
}

#[test]
fn duration_max_does_not_panic_or_overflow() {
    with_deadline(DEADLINE, || {
        block_on(async {
            // A sleep of Duration::MAX is pending forever: race it.
            let sleeper = spawn(sleep(Duration::MAX));
            yield_now().await;
            assert!(!sleeper.is_finished());
            sleeper.abort();
            assert_eq!(timeout(Duration::MAX, async { 1 }).await, Ok(1));
            let forever = timeout(Duration::MAX, sleep(Duration::from_millis(5)));
            assert_eq!(forever.await, Ok(()));
            let mut never = interval(Duration::MAX);
            never.tick().await; // the first tick is immediate
            let second = timeout(Duration::from_millis(5), never.tick()).await;
            assert_eq!(second, Err(Elapsed));
        })
    });
}

#[test]
fn interval_first_tick_is_immediate_and_then_spaced() {
    block_on(async {
        let start = Instant::now();
        let mut every = interval(Duration::from_millis(10));
        let first = every.tick().await;
        assert!(start.elapsed() < Duration::from_millis(10));
        let mut last = first;
        for _ in 0..3 {
            let t = every.tick().await;
            assert!(t - last >= Duration::from_millis(10));
            assert!(Instant::now() >= t, "tick returned before its instant");
            last = t;
        }
    });
}

#[test]
fn a_late_interval_does_not_burst() {
    block_on(async {
        let mut every = interval(Duration::from_millis(10));
        every.tick().await;
        std::thread::sleep(Duration::from_millis(50)); // block the loop: 5 ticks late
        let late = every.tick().await;
        let before = Instant::now();
        let next = every.tick().await;
        assert!(next - late >= Duration::from_millis(10));
        assert!(
            before.elapsed() >= Duration::from_millis(5),
            "no catch-up burst"
        );
    });
}

#[test]
fn interval_zero_ticks_but_lets_others_run() {
    block_on(async {
        let other_ran = Rc::new(Cell::new(false));
        let flag = other_ran.clone();
        drop(spawn(async move { flag.set(true) }));
        let mut fast = interval(Duration::ZERO);
        for _ in 0..3 {
            fast.tick().await;
        }
        assert!(other_ran.get());
    });
}

#[test]
fn many_sleeps_gathered_take_about_the_longest() {
    let start = Instant::now();
    block_on(gather((1..=50).map(|i| sleep(Duration::from_millis(i)))));
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(50));
    assert!(
        took < Duration::from_secs(2),
        "{took:?}: ran one after another?"
    );
}

#[test]
#[allow(clippy::async_yields_async)] // the Sleep is handed out on purpose
fn a_sleep_created_in_one_loop_and_dropped_after_it_ended_is_harmless() {
    let rt = runtime::Runtime::new().unwrap();
    let sleep = rt.block_on(async {
        let mut s = Box::pin(sleep(Duration::from_secs(60)));
        // Poll once so it registers its timer, then hand it out.
        let _ = timeout(Duration::ZERO, s.as_mut()).await;
        s
    });
    drop(rt);
    drop(sleep);
}

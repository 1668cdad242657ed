//! Seeing inside the loop: slow-poll warnings, the watchdog, `tasks()` and
//! its "waiting on" records, and the report of a panic nobody awaited.
//!
//! Reports are read in process: each loop sends them to a `Vec` with
//! `Builder::report_to`. Only what the environment switches on for a whole
//! process (`LOOPLET_DEBUG`, `LOOPLET_TRACE`) runs in a child process: a
//! `scenario_*` test does nothing unless this file's own tests start it with
//! `LOOPLET_SCENARIO` set, and the parent reads its stderr.

use std::future::Future;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use runtime::sync::Queue;
use runtime::{block_on, spawn, spawn_named, tasks, yield_now, Builder};

/// Runs scenario `name` in a child process and returns its stderr.
fn run_scenario(name: &str, env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        &format!("scenario_{name}"),
        "--nocapture",
        "--test-threads=1",
    ])
    .env("LOOPLET_SCENARIO", name)
    .env_remove("LOOPLET_DEBUG")
    .env_remove("LOOPLET_TRACE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "scenario {name} failed:\n{stderr}");
    stderr
}

fn in_scenario(name: &str) -> bool {
    std::env::var("LOOPLET_SCENARIO").is_ok_and(|s| s == name)
}

/// The lines a loop reported, collected in process (`Builder::report_to`).
type Lines = Arc<Mutex<Vec<String>>>;

/// A loop whose reports go to a `Vec`, with a slow-poll threshold of `ms`
/// if given.
fn reporting_loop(ms: Option<u64>) -> (runtime::Runtime, Lines) {
    let lines = Lines::default();
    let mut builder = Builder::new();
    if let Some(ms) = ms {
        builder.slow_poll_threshold(Duration::from_millis(ms));
    }
    builder.report_to({
        let lines = lines.clone();
        move |line: &str| lines.lock().unwrap().push(line.to_string())
    });
    (builder.build().unwrap(), lines)
}

fn joined(lines: &Lines) -> String {
    lines.lock().unwrap().join("\n")
}

#[test]
fn a_slow_poll_is_reported_with_name_and_location_and_a_quick_one_is_not() {
    let (rt, lines) = reporting_loop(Some(50));
    rt.block_on(async {
        spawn_named("sleepy-handler", async {
            std::thread::sleep(Duration::from_millis(300)); // blocks the loop
        })
        .await
        .unwrap();
        spawn(async {
            std::thread::sleep(Duration::from_millis(5)); // under the threshold
        })
        .await
        .unwrap();
    });
    drop(rt);
    let all = joined(&lines);
    let slow: Vec<String> = lines
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.starts_with("looplet: "))
        .cloned()
        .collect();
    assert_eq!(slow.len(), 1, "exactly one slow-poll line:\n{all}");
    assert!(slow[0].contains("\"sleepy-handler\""), "{all}");
    assert!(
        slow[0].contains("tests/observe.rs:"),
        "the spawn location: {all}"
    );
    assert!(slow[0].contains("in one poll"), "{all}");
}

#[test]
fn the_watchdog_reports_a_blocking_poll_before_it_returns() {
    let (rt, lines) = reporting_loop(Some(100));
    rt.block_on(async {
        let lines = lines.clone();
        spawn_named("stuck", async move {
            std::thread::sleep(Duration::from_secs(2));
            lines
                .lock()
                .unwrap()
                .push("MARK: the blocking poll returned".into());
        })
        .await
        .unwrap();
    });
    drop(rt);
    let all = joined(&lines);
    let watchdog = all.find("looplet watchdog:").expect(&all);
    let returned = all.find("MARK: the blocking poll returned").expect(&all);
    assert!(
        watchdog < returned,
        "the watchdog spoke after the poll returned:\n{all}"
    );
    assert!(all[watchdog..].contains("\"stuck\""), "{all}");
    assert_eq!(
        all.matches("looplet watchdog:").count(),
        1,
        "reported once:\n{all}"
    );
}

#[test]
fn scenario_quiet() {
    if !in_scenario("quiet") {
        return;
    }
    block_on(async {
        spawn(async { std::thread::sleep(Duration::from_millis(200)) })
            .await
            .unwrap();
    });
}

#[test]
fn with_the_threshold_off_nothing_is_reported() {
    if std::env::var_os("LOOPLET_DEBUG").is_some() {
        return; // the environment turned debug mode on for every loop
    }
    let (rt, lines) = reporting_loop(None);
    rt.block_on(async {
        spawn(async { std::thread::sleep(Duration::from_millis(200)) })
            .await
            .unwrap();
    });
    drop(rt);
    assert!(lines.lock().unwrap().is_empty(), "{}", joined(&lines));
}

#[test]
fn looplet_debug_turns_the_threshold_on() {
    let err = run_scenario("quiet", &[("LOOPLET_DEBUG", "1")]);
    assert!(err.contains("looplet: task #"), "{err}");
}

#[test]
fn an_unretrieved_panic_is_reported_once_and_an_awaited_one_not_at_all() {
    let (rt, lines) = reporting_loop(None);
    rt.block_on(async {
        drop(spawn_named("detached-failure", async {
            yield_now().await;
            panic!("boom in a detached task");
        }));
        let awaited = spawn(async { panic!("boom in an awaited task") });
        assert!(awaited.await.unwrap_err().is_panic());
        let dropped_late = spawn(async { panic!("boom, handle dropped after the end") });
        for _ in 0..3 {
            yield_now().await;
        }
        drop(dropped_late);
    });
    drop(rt);
    let all = joined(&lines);
    assert_eq!(all.matches("boom in a detached task").count(), 1, "{all}");
    assert!(all.contains("\"detached-failure\""), "{all}");
    assert!(all.contains("nobody awaited"), "{all}");
    assert!(!all.contains("boom in an awaited task"), "{all}");
    assert_eq!(
        all.matches("boom, handle dropped after the end").count(),
        1,
        "{all}"
    );
}

#[test]
fn tasks_lists_live_tasks_only_with_unique_ids() {
    block_on(async {
        let before: Vec<u64> = tasks().iter().map(|t| t.id()).collect();
        assert!(before.is_empty(), "the main future is not a task");
        let quick = spawn(async { 1 });
        let slow = spawn_named("slow", runtime::time::sleep(Duration::from_secs(60)));
        yield_now().await;
        assert!(quick.is_finished());
        let list = tasks();
        assert_eq!(list.len(), 1, "{list:?}");
        assert_eq!(list[0].name(), "slow");
        assert_eq!(list[0].polls(), 1);
        let unnamed = spawn(std::future::pending::<()>());
        yield_now().await;
        let list = tasks();
        let named = list.iter().find(|t| t.name() == "slow").unwrap();
        let other = list.iter().find(|t| t.name() != "slow").unwrap();
        assert!(
            other.name().starts_with("tests/observe.rs:"),
            "{}",
            other.name()
        );
        assert_eq!(other.spawned_at().file(), "tests/observe.rs");
        assert_ne!(named.id(), other.id());
        slow.abort();
        unnamed.abort();
        let _ = quick.await;
    });
    // Ids are never reused, even across loops.
    let ids: Vec<u64> = (0..2)
        .flat_map(|_| {
            block_on(async {
                let handles: Vec<_> = (0..100)
                    .map(|_| spawn(std::future::pending::<()>()))
                    .collect();
                let ids: Vec<u64> = tasks().iter().map(|t| t.id()).collect();
                drop(handles);
                ids
            })
        })
        .collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 200);
}

#[test]
fn waiting_on_says_what_each_task_waits_for() {
    block_on(async {
        let listener = runtime::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = runtime::net::TcpStream::connect(addr).await.unwrap();
        let (_server_side, _) = listener.accept().await.unwrap();
        let queue: Queue<u8> = Queue::new(0);

        let sleeper = spawn_named("sleeper", runtime::time::sleep(Duration::from_secs(30)));
        let reader = spawn_named("reader", async move {
            let mut buf = [0; 8];
            client.read(&mut buf).await
        });
        let getter = spawn_named("getter", {
            let queue = queue.clone();
            async move { queue.get().await }
        });
        let blocking = runtime::spawn_blocking(|| std::thread::sleep(Duration::from_millis(300)));
        let joiner = spawn_named("joiner", blocking);
        let patient = spawn_named("patient", {
            let queue = queue.clone();
            async move { runtime::time::timeout(Duration::from_secs(30), queue.get()).await }
        });
        let gatherer = spawn_named("gatherer", async {
            runtime::gather(vec![
                Box::pin(runtime::time::sleep(Duration::from_secs(20)))
                    as std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>,
                Box::pin(async {
                    Queue::<u8>::new(0).get().await;
                }),
            ])
            .await
        });
        let macro_gatherer = spawn_named("macro-gatherer", async {
            runtime::gather!(runtime::time::sleep(Duration::from_secs(20)), async {
                Queue::<u8>::new(0).get().await
            })
            .await
        });
        for _ in 0..3 {
            yield_now().await;
        }
        let list = tasks();
        if std::env::var_os("REPRO_PANIC").is_some() {
            panic!("repro");
        }
        let waits = |name: &str| {
            let task = list
                .iter()
                .find(|t| t.name() == name)
                .unwrap_or_else(|| panic!("{name} listed"));
            task.waiting_on()
                .unwrap_or_else(|| panic!("{name}: {task}"))
                .to_string()
        };
        let timer = waits("sleeper");
        let secs: f64 = timer
            .strip_prefix("a timer that fires in ")
            .and_then(|rest| rest.strip_suffix(" s"))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{timer}"));
        assert!((29.0..=30.0).contains(&secs), "{timer}");
        let reading = waits("reader");
        assert!(
            reading.contains(&format!("<- {addr}")) && reading.ends_with("to read"),
            "{reading}"
        );
        assert_eq!(waits("getter"), "Queue::get (the queue is empty)");
        // Inside a timeout, what the future waits on wins over the timer.
        assert_eq!(waits("patient"), "Queue::get (the queue is empty)");
        assert!(
            waits("joiner").starts_with("a spawn_blocking job (task #"),
            "{}",
            waits("joiner")
        );
        for name in ["gatherer", "macro-gatherer"] {
            let gathering = waits(name);
            assert!(
                gathering.contains("child 0: a timer") && gathering.contains("child 1: Queue::get"),
                "{name}: {gathering}"
            );
        }
        // Every line reads as one sentence.
        for task in &list {
            let line = task.to_string();
            assert!(
                line.starts_with(&format!("task #{} ", task.id())) && !line.contains('\n'),
                "{line}"
            );
        }
        sleeper.abort();
        gatherer.abort();
        macro_gatherer.abort();
        reader.abort();
        getter.abort();
        patient.abort();
        joiner.await.unwrap().unwrap();
    });
}

#[test]
fn tasks_outside_a_loop_panics_like_spawn() {
    let err = std::panic::catch_unwind(tasks).unwrap_err();
    let message = err.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("outside a running event loop"),
        "{message}"
    );
}

#[test]
fn scenario_trace() {
    if !in_scenario("trace") {
        return;
    }
    block_on(async {
        let queue = Queue::new(1);
        let producer = spawn_named("producer", {
            let queue = queue.clone();
            async move {
                runtime::time::sleep(Duration::from_millis(20)).await;
                queue.put(1u8).await;
            }
        });
        let job = runtime::spawn_blocking(|| std::thread::sleep(Duration::from_millis(5)));
        queue.get().await;
        job.await.unwrap();
        producer.await.unwrap();
    });
}

#[test]
fn looplet_trace_says_which_task_ran_and_why() {
    let err = run_scenario("trace", &[("LOOPLET_TRACE", "1")]);
    let has = |s: &str| assert!(err.contains(s), "no {s:?} in the trace:\n{err}");
    has("[looplet] poll task #");
    has("\"producer\"");
    has("(just spawned)");
    has("(woken by a timer)");
    has("(woken from another thread)");
    has("poll the main future");
    has("a timeout of 0.0"); // the nearest timer bounds the OS poll
    has("1 timer(s) fired");
    assert!(
        err.lines()
            .all(|l| l.starts_with("[looplet] ") || l.is_empty()),
        "{err}"
    );
    // And with it off, not a line.
    assert!(!run_scenario("trace", &[]).contains("[looplet]"));
}

#[test]
fn panics_in_drops_and_wakers_are_contained_and_reported() {
    use std::task::{Context, Wake};

    /// An output whose `Drop` panics.
    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("boom in an output's drop");
        }
    }
    /// A panic payload whose `Drop` panics too.
    struct PayloadPanicsOnDrop;
    impl Drop for PayloadPanicsOnDrop {
        fn drop(&mut self) {
            panic!("boom in a payload's drop");
        }
    }
    /// A user's waker that panics when woken.
    struct PanicsOnWake;
    impl Wake for PanicsOnWake {
        fn wake(self: Arc<Self>) {
            panic!("boom in a waker");
        }
    }

    let (rt, lines) = reporting_loop(None);
    let sum = rt.block_on(async {
        // 1. A detached task whose output panics when dropped.
        drop(spawn(async { PanicsOnDrop }));
        // 2. A detached task that panics with a payload that panics when dropped.
        drop(spawn(async {
            std::panic::panic_any(PayloadPanicsOnDrop);
        }));
        // 3. A JoinHandle polled by hand with a waker that panics in `wake`.
        let mut handle = spawn(async { yield_now().await });
        let waker = std::task::Waker::from(Arc::new(PanicsOnWake));
        let mut cx = Context::from_waker(&waker);
        assert!(std::pin::Pin::new(&mut handle).poll(&mut cx).is_pending());
        // 4. A timer polled by hand with that waker: the reactor wakes it.
        let mut sleep = Box::pin(runtime::time::sleep(Duration::from_millis(1)));
        assert!(sleep.as_mut().poll(&mut cx).is_pending());
        // Meanwhile ordinary tasks go on, through all of it.
        let mut sum = 0;
        for i in 0..10 {
            sum += spawn(async move {
                runtime::time::sleep(Duration::from_millis(2)).await;
                i
            })
            .await
            .unwrap();
        }
        assert!(handle.is_finished());
        drop(handle);
        sum
    });
    drop(rt);
    assert_eq!(sum, 45, "the other tasks ran through all of it");
    // Another loop on this thread still works.
    assert_eq!(block_on(async { spawn(async { 7 }).await.unwrap() }), 7);
    let all = joined(&lines);
    assert!(all.contains("boom in an output's drop"), "{all}");
    assert!(all.contains("JoinHandle"), "{all}");
    assert!(all.contains("boom in a waker"), "{all}");
    assert!(all.contains("the loop goes on"), "{all}");
}

#[test]
fn a_timer_centuries_away_is_not_described_as_days_away() {
    block_on(async {
        let far = spawn(runtime::time::sleep(Duration::from_secs(
            585 * 365 * 24 * 3600,
        )));
        yield_now().await;
        let list = tasks();
        let text = list
            .iter()
            .find_map(|t| t.waiting_on().map(str::to_string))
            .expect("the sleeper waits on its timer");
        assert!(text.contains("more than"), "{text}");
        far.abort();
    });
}

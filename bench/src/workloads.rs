//! The in-process workloads, each written once over [`Rt`] and run on all
//! three runtimes. Each returns a [`Sample`]: its time, and where it makes
//! sense a counted figure (allocations or bytes per item).

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::Rc;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use crate::counting;
use crate::rt::Rt;

/// One run of one workload on one runtime.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sample {
    /// The figure the table compares, in seconds (or a count, see `unit`).
    pub value: f64,
    /// A counted figure beside it: allocations per spawn, per wake, ...
    pub counted: Option<f64>,
}

/// Spawns `n` trivial tasks, then joins them all. Counted: allocations per
/// spawn (the spawn loop only).
pub fn spawn_join<R: Rt>(n: usize) -> Sample {
    R::block_on(async move {
        let start = Instant::now();
        let before = counting::allocations();
        let mut handles = Vec::with_capacity(n);
        for i in 0..n {
            handles.push(R::spawn(async move { i }));
        }
        let spawned = counting::allocations() - before;
        let mut sum = 0;
        for h in handles {
            sum += h.await;
        }
        assert_eq!(sum, n * (n - 1) / 2);
        Sample {
            value: start.elapsed().as_secs_f64(),
            counted: Some(spawned as f64 / n as f64),
        }
    })
}

/// Two tasks pass a token back and forth `n` times in all. The token is a
/// plain `Rc` + waker pair, the same for every runtime, so what is measured
/// is each runtime's wake and poll. Counted: allocations per wake.
pub fn ping_pong<R: Rt>(n: usize) -> Sample {
    struct Baton {
        turn: Cell<usize>,
        wakers: RefCell<[Option<Waker>; 2]>,
    }
    async fn player(baton: Rc<Baton>, me: usize, rounds: usize) {
        for _ in 0..rounds {
            poll_fn(|cx| {
                if baton.turn.get() == me {
                    Poll::Ready(())
                } else {
                    let mut wakers = baton.wakers.borrow_mut();
                    match &wakers[me] {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        _ => wakers[me] = Some(cx.waker().clone()),
                    }
                    Poll::Pending
                }
            })
            .await;
            baton.turn.set(1 - me);
            let other = baton.wakers.borrow_mut()[1 - me].take();
            if let Some(w) = other {
                w.wake();
            }
        }
    }
    R::block_on(async move {
        let baton = Rc::new(Baton {
            turn: Cell::new(0),
            wakers: RefCell::new([None, None]),
        });
        let rounds = n / 2;
        let a = R::spawn(player(baton.clone(), 0, rounds));
        let b = R::spawn(player(baton, 1, rounds));
        R::yield_now().await; // both spawned and polled once
        let before = counting::allocations();
        let start = Instant::now();
        a.await;
        b.await;
        let elapsed = start.elapsed().as_secs_f64();
        Sample {
            value: elapsed,
            counted: Some((counting::allocations() - before) as f64 / n as f64),
        }
    })
}

/// One task yields `n` times.
pub fn yield_many<R: Rt>(n: usize) -> Sample {
    R::block_on(async move {
        let start = Instant::now();
        let task = R::spawn(async move {
            for _ in 0..n {
                R::yield_now().await;
            }
        });
        task.await;
        Sample {
            value: start.elapsed().as_secs_f64(),
            counted: None,
        }
    })
}

/// A plain thread wakes a task `n` times; the task answers each wake
/// through a condvar before the next. The value is microseconds per round
/// trip.
pub fn thread_wake<R: Rt>(n: u64) -> Sample {
    struct Shared {
        sent: Mutex<(u64, Option<Waker>)>,
        acked: Mutex<u64>,
        ack: Condvar,
    }
    let shared = Arc::new(Shared {
        sent: Mutex::new((0, None)),
        acked: Mutex::new(0),
        ack: Condvar::new(),
    });
    let start = Instant::now();
    let thread = std::thread::spawn({
        let shared = shared.clone();
        move || {
            for i in 1..=n {
                let waker = {
                    let mut sent = shared.sent.lock().unwrap();
                    sent.0 = i;
                    sent.1.take()
                };
                if let Some(w) = waker {
                    w.wake();
                }
                let mut acked = shared.acked.lock().unwrap();
                while *acked < i {
                    acked = shared.ack.wait(acked).unwrap();
                }
            }
        }
    });
    R::block_on({
        let shared = shared.clone();
        async move {
            let mut seen = 0;
            while seen < n {
                poll_fn(|cx| {
                    let mut sent = shared.sent.lock().unwrap();
                    if sent.0 > seen {
                        seen = sent.0;
                        Poll::Ready(())
                    } else {
                        sent.1 = Some(cx.waker().clone());
                        Poll::Pending
                    }
                })
                .await;
                *shared.acked.lock().unwrap() = seen;
                shared.ack.notify_one();
            }
        }
    });
    thread.join().unwrap();
    Sample {
        value: start.elapsed().as_secs_f64() * 1e6 / n as f64,
        counted: None,
    }
}

/// `n` sleeps of pseudo-random length up to `max`, all awaited at once.
/// The value is how long it took beyond the longest sleep; counted: the
/// peak of live heap bytes per sleep.
pub fn sleeps<R: Rt>(n: usize, max: Duration) -> Sample {
    let lengths = pseudo_random_durations(n, max);
    let longest = lengths.iter().copied().max().unwrap_or_default();
    R::block_on(async move {
        counting::reset_peak();
        let base = counting::live_bytes();
        let start = Instant::now();
        let all: Vec<_> = lengths.into_iter().map(R::sleep).collect();
        R::gather(all).await;
        let over = start.elapsed().saturating_sub(longest);
        Sample {
            value: over.as_secs_f64(),
            counted: Some((counting::peak_bytes() - base) as f64 / n as f64),
        }
    })
}

/// `n` tiny jobs on the blocking pool, all submitted, then all awaited.
pub fn blocking<R: Rt>(n: usize) -> Sample {
    R::block_on(async move {
        let start = Instant::now();
        let jobs: Vec<_> = (0..n).map(|i| R::spawn_blocking(move || i)).collect();
        let mut sum = 0;
        for job in jobs {
            sum += job.await;
        }
        assert_eq!(sum, n * (n - 1) / 2);
        Sample {
            value: start.elapsed().as_secs_f64(),
            counted: None,
        }
    })
}

/// Heap bytes per task for `n` spawned tasks that never finish (each has
/// been polled once and waits). The value is bytes per task.
pub fn pending_tasks<R: Rt>(n: usize) -> Sample {
    R::block_on(async move {
        let base = counting::live_bytes();
        let handles: Vec<_> = (0..n)
            .map(|_| R::spawn(std::future::pending::<()>()))
            .collect();
        // Every runtime here runs its ready tasks in spawn order, so once a
        // task spawned last has run, every task before it was polled once
        // and waits: none is left in a run queue. (Two `yield_now`s, as this
        // was before, let a loop with a poll budget per turn poll only a
        // few hundred, and counted a full run queue as task memory.)
        R::spawn(async {}).await;
        let handle_bytes = n * std::mem::size_of::<R::Handle<()>>();
        let per_task = (counting::live_bytes() - base - handle_bytes) as f64 / n as f64;
        drop(handles); // smol cancels here; the others drop with the loop
        Sample {
            value: per_task,
            counted: None,
        }
    })
}

/// The same `n` lengths on every runtime: a small linear congruential
/// generator, seeded the same way each time.
fn pseudo_random_durations(n: usize, max: Duration) -> Vec<Duration> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let max_us = max.as_micros().max(1) as u64;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            Duration::from_micros((state >> 33) % max_us + 1)
        })
        .collect()
}

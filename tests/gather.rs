//! gather, try_gather and gather!, through the public API only: outputs in
//! input order, the first error stops the rest, and only woken children are
//! polled (n children each woken k times: O(n k) polls).
//!
//! Every test that could hang on a lost wakeup runs under `with_deadline`.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::thread;
use std::time::Duration;

use runtime::{block_on, gather, try_gather, yield_now};
use tests::{forever, wait_for_flag, with_deadline, Counted};

const DEADLINE: Duration = Duration::from_secs(30);

#[test]
fn gather_returns_outputs_in_input_order() {
    let out = block_on(gather((0..50u32).map(|i| async move {
        // Later children finish first.
        for _ in 0..(50 - i) {
            yield_now().await;
        }
        i
    })));
    assert_eq!(out, (0..50).collect::<Vec<_>>());
}

#[test]
fn gather_of_nothing_is_an_empty_vec() {
    let out: Vec<()> = block_on(gather(Vec::<std::future::Ready<()>>::new()));
    assert!(out.is_empty());
}

#[test]
fn gather_polls_only_woken_children() {
    const N: usize = 20_000;
    let polls = Rc::new(Cell::new(0));
    let out = block_on({
        let polls = polls.clone();
        gather((0..N).map(move |i| Counted {
            inner: Box::pin(async move {
                yield_now().await; // each child is woken exactly once
                i
            }),
            polls: polls.clone(),
        }))
    });
    assert_eq!(out.len(), N);
    assert!(
        polls.get() <= 3 * N,
        "{} polls for {N} children woken once each: more than 3 per child",
        polls.get()
    );
}

#[test]
fn gather_children_can_be_woken_from_other_threads() {
    with_deadline(DEADLINE, || {
        block_on(async {
            let flags: Vec<_> = (0..8).map(|_| Arc::new(AtomicBool::new(false))).collect();
            let slots: Vec<Arc<Mutex<Option<Waker>>>> = (0..8).map(|_| Arc::default()).collect();
            let futures: Vec<_> = flags
                .iter()
                .zip(&slots)
                .map(|(f, s)| wait_for_flag(f.clone(), s.clone()))
                .collect();
            let wakers = thread::spawn(move || {
                for (flag, slot) in flags.iter().zip(&slots) {
                    while slot.lock().unwrap().is_none() {
                        thread::yield_now();
                    }
                    flag.store(true, Ordering::Release);
                    slot.lock().unwrap().clone().unwrap().wake();
                }
            });
            assert_eq!(gather(futures).await.len(), 8);
            wakers.join().unwrap();
        })
    });
}

#[test]
fn try_gather_gives_all_values_when_nothing_fails() {
    let out = block_on(try_gather((0..5).map(|i| async move {
        yield_now().await;
        Ok::<_, String>(i * 10)
    })));
    assert_eq!(out, Ok(vec![0, 10, 20, 30, 40]));
}

#[test]
fn try_gather_returns_the_first_error_at_once_and_drops_the_rest() {
    let dropped = Rc::new(Cell::new(0));
    let finished = Rc::new(Cell::new(0));
    let result = block_on({
        let (dropped, finished) = (dropped.clone(), finished.clone());
        async move {
            let children = (0..10).map(move |i| {
                let guard = Counter(dropped.clone());
                let finished = finished.clone();
                Box::pin(async move {
                    let _guard = guard;
                    if i == 3 {
                        yield_now().await;
                        return Err(format!("child {i} failed"));
                    }
                    forever().await; // slower siblings never finish
                    finished.set(finished.get() + 1);
                    Ok(i)
                }) as Pin<Box<dyn Future<Output = Result<i32, String>>>>
            });
            try_gather(children).await
        }
    });
    assert_eq!(result, Err("child 3 failed".to_string()));
    assert_eq!(finished.get(), 0, "no slower sibling finished");
    assert_eq!(dropped.get(), 10, "every child was dropped");
}

/// Counts its drops.
struct Counter(Rc<Cell<usize>>);
impl Drop for Counter {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

#[test]
fn gather_macro_gives_a_tuple_of_mixed_types() {
    let (a, b, c) = block_on(async {
        runtime::gather!(
            async {
                yield_now().await;
                1u8
            },
            async { "two" },
            async {
                yield_now().await;
                yield_now().await;
                3.0f64
            },
        )
        .await
    });
    assert_eq!((a, b, c), (1, "two", 3.0));
}

#[test]
fn gather_macro_polls_only_woken_children() {
    let polls = Rc::new(Cell::new(0));
    let counted = |n: usize| Counted {
        inner: Box::pin(async move {
            for _ in 0..n {
                yield_now().await;
            }
            n
        }),
        polls: polls.clone(),
    };
    let (a, b) = block_on(async { runtime::gather!(counted(1), counted(100)).await });
    assert_eq!((a, b), (1, 100));
    // Each child is polled once per wake plus once at the start: 2 + 101.
    assert_eq!(polls.get(), 103);
}

#[test]
fn gather_macro_takes_any_number_of_futures() {
    async fn n(i: u32) -> u32 {
        yield_now().await;
        i
    }
    let out = block_on(async {
        runtime::gather!(
            n(0),
            n(1),
            n(2),
            n(3),
            n(4),
            n(5),
            n(6),
            n(7),
            n(8),
            n(9),
            n(10),
            n(11),
            n(12),
            n(13),
            n(14),
            n(15),
            n(16),
            n(17),
            n(18),
            n(19),
            n(20),
            n(21),
            n(22),
            n(23),
            n(24),
            n(25),
            n(26),
            n(27),
            n(28),
            n(29),
            n(30),
            n(31),
            n(32),
            n(33),
            n(34),
            n(35),
            n(36),
            n(37),
            n(38),
            n(39)
        )
        .await
    });
    assert_eq!((out.0, out.31, out.32, out.39), (0, 31, 32, 39));
}

/// A round of polls that the budget cut short goes on at the next poll.
/// A child woken in between (here by another task) wakes the parent, and
/// that wake is spent on carrying the round on: when the round ends, the
/// gather must still come back for that child. (Under load this was a hang
/// of `a_hundred_thousand_random_sleeps_all_finish_and_none_early`.)
#[test]
fn a_child_woken_while_a_round_is_carried_on_is_not_forgotten() {
    with_deadline(DEADLINE, || {
        block_on(async {
            let event = Rc::new(runtime::sync::Event::new());
            // Index 0 waits for the event; the 200 others are ready at once
            // and spend the budget, so the first round stops after 128.
            let waiter = {
                let event = event.clone();
                async move { event.wait().await }
            };
            let ready = (0..200).map(|_| async {
                runtime::time::sleep(Duration::ZERO).await;
            });
            type Child = Pin<Box<dyn Future<Output = ()>>>;
            let children: Vec<Child> = std::iter::once(Box::pin(waiter) as Child)
                .chain(ready.map(|f| Box::pin(f) as Child))
                .collect();
            // Runs between the first poll of the gather and the next one.
            let setter = runtime::spawn(async move { event.set() });
            assert_eq!(gather(children).await.len(), 201);
            setter.await.unwrap();
        });
    });
}

//! TaskGroup, through the public API: results in completion order, values
//! in spawn order, the first failure cancelling the rest (counted by their
//! drops), a panic reported and not lost, and dropping the group aborting.

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use runtime::sync::Event;
use runtime::time::timeout;
use runtime::{block_on, yield_now, GroupError, TaskGroup};
use tests::with_deadline;

const LIMIT: Duration = Duration::from_secs(30);

/// Counts its drops; a task holding one shows when its future is dropped.
struct DropCounter(Rc<Cell<usize>>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// Waits for `event`, holding a drop counter, then gives `value`.
fn waits_for<T>(event: &Event, drops: &Rc<Cell<usize>>, value: T) -> impl Future<Output = T> {
    let (event, guard) = (event.clone(), DropCounter(drops.clone()));
    async move {
        let _guard = guard;
        event.wait().await;
        value
    }
}

#[test]
fn join_next_gives_results_in_the_order_tasks_finish() {
    with_deadline(LIMIT, || {
        block_on(async {
            let (senders, receivers): (Vec<_>, Vec<_>) = (0..3)
                .map(|_| runtime::sync::oneshot::channel::<u32>())
                .unzip();
            let mut group = TaskGroup::new();
            for rx in receivers {
                group.spawn(async move { rx.await.unwrap() });
            }
            assert_eq!(group.len(), 3);
            yield_now().await; // all three wait now
            let mut senders: Vec<Option<_>> = senders.into_iter().map(Some).collect();
            let mut order = Vec::new();
            for i in [1, 2, 0] {
                senders[i].take().unwrap().send(i as u32).unwrap();
                order.push(group.join_next().await.unwrap().unwrap());
            }
            assert_eq!(order, [1, 2, 0]);
            assert!(group.is_empty());
            assert!(group.join_next().await.is_none());
        })
    });
}

#[test]
fn try_join_all_gives_values_in_spawn_order() {
    with_deadline(LIMIT, || {
        block_on(async {
            let mut group: TaskGroup<Result<u32, String>> = TaskGroup::new();
            for n in 0..5u32 {
                group.spawn(async move {
                    // Later spawns finish first.
                    for _ in 0..(5 - n) {
                        yield_now().await;
                    }
                    Ok(n)
                });
            }
            assert_eq!(group.try_join_all().await.unwrap(), [0, 1, 2, 3, 4]);
        })
    });
}

#[test]
fn the_first_failure_cancels_the_siblings_before_it_is_returned() {
    with_deadline(LIMIT, || {
        block_on(async {
            let drops = Rc::new(Cell::new(0));
            let never = Event::new();
            let mut group: TaskGroup<Result<u32, &str>> = TaskGroup::new();
            for n in 0..10 {
                group.spawn(waits_for(&never, &drops, Ok(n)));
            }
            group.spawn(async {
                yield_now().await;
                Err("disk full")
            });
            match group.try_join_all().await {
                Err(GroupError::Failed(e)) => assert_eq!(e, "disk full"),
                other => panic!("expected the failure, got {other:?}"),
            }
            assert_eq!(drops.get(), 10, "every sibling was cancelled by now");
        })
    });
}

#[test]
fn a_panic_in_the_group_is_returned_not_lost() {
    with_deadline(LIMIT, || {
        block_on(async {
            let drops = Rc::new(Cell::new(0));
            let never = Event::new();
            let mut group: TaskGroup<Result<u32, String>> = TaskGroup::new();
            group.spawn(waits_for(&never, &drops, Ok(1)));
            group.spawn(async { panic!("boom in the group") });
            match group.try_join_all().await {
                Err(GroupError::Panicked(e)) => {
                    assert!(e.is_panic());
                    assert!(e.to_string().contains("boom in the group"), "{e}");
                }
                other => panic!("expected the panic, got {other:?}"),
            }
            assert_eq!(drops.get(), 1);
        })
    });
}

#[test]
fn dropping_the_group_aborts_its_tasks() {
    with_deadline(LIMIT, || {
        block_on(async {
            let drops = Rc::new(Cell::new(0));
            let never = Event::new();
            let mut group = TaskGroup::new();
            for n in 0..100 {
                group.spawn(waits_for(&never, &drops, n));
            }
            yield_now().await; // they all wait now
            drop(group);
            // An aborted task's future is dropped at its next turn; 100 of
            // them take a couple of the loop's turns.
            for _ in 0..10 {
                yield_now().await;
            }
            assert_eq!(drops.get(), 100);
        })
    });
}

#[test]
fn abort_all_leaves_the_tasks_to_be_joined_as_cancelled() {
    with_deadline(LIMIT, || {
        block_on(async {
            let drops = Rc::new(Cell::new(0));
            let never = Event::new();
            let mut group = TaskGroup::new();
            group.spawn(async { 7 });
            yield_now().await; // the first one finishes
            group.spawn(waits_for(&never, &drops, 8));
            group.abort_all();
            assert_eq!(group.len(), 2);
            let mut results = Vec::new();
            while let Some(result) = group.join_next().await {
                results.push(result);
            }
            assert_eq!(results.len(), 2);
            assert_eq!(*results[0].as_ref().unwrap(), 7);
            assert!(results[1].as_ref().unwrap_err().is_cancelled());
            assert_eq!(drops.get(), 1);
        })
    });
}

#[test]
fn join_next_under_a_timeout_loses_no_result() {
    with_deadline(LIMIT, || {
        block_on(async {
            let go = Event::new();
            let drops = Rc::new(Cell::new(0));
            let mut group = TaskGroup::new();
            group.spawn(waits_for(&go, &drops, "late"));
            assert!(timeout(Duration::from_millis(5), group.join_next())
                .await
                .is_err());
            go.set();
            assert_eq!(group.join_next().await.unwrap().unwrap(), "late");
        })
    });
}

#[test]
fn a_group_of_many_tasks_joins_each_once() {
    with_deadline(LIMIT, || {
        block_on(async {
            let mut group = TaskGroup::new();
            for n in 0..20_000u64 {
                group.spawn(async move {
                    yield_now().await;
                    n
                });
            }
            let mut sum = 0;
            while let Some(result) = group.join_next().await {
                sum += result.unwrap();
            }
            assert_eq!(sum, 20_000 * 19_999 / 2);
        })
    });
}

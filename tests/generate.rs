//! Async generators (`runtime::stream::generate`), through the public API:
//! items in order, the end, laziness, waiting inside the body, and a
//! generator dropped midway dropping its body (and nothing leaking).

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use runtime::block_on;
use runtime::stream::{generate, StreamExt};
use runtime::time::sleep;

/// Counts its drops.
struct DropCounter(Rc<Cell<usize>>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

#[test]
fn a_generator_yields_in_order_and_then_stops() {
    block_on(async {
        let mut numbers = generate(|mut y| async move {
            for n in 0..5 {
                y.yield_(n).await;
            }
        });
        let mut got = Vec::new();
        while let Some(n) = numbers.next().await {
            got.push(n);
        }
        assert_eq!(got, [0, 1, 2, 3, 4]);
        assert_eq!(numbers.next().await, None, "it stays ended");
    });
}

#[test]
fn a_generator_is_lazy() {
    block_on(async {
        let ran = Rc::new(Cell::new(0));
        let mut steps = generate({
            let ran = ran.clone();
            move |mut y| async move {
                for n in 0..3 {
                    ran.set(ran.get() + 1);
                    y.yield_(n).await;
                }
            }
        });
        assert_eq!(
            ran.get(),
            0,
            "nothing runs before the first item is asked for"
        );
        assert_eq!(steps.next().await, Some(0));
        assert_eq!(ran.get(), 1, "and only up to the item asked for");
    });
}

#[test]
fn a_generator_can_await_between_items() {
    block_on(async {
        let mut ticks = generate(|mut y| async move {
            for n in 0..3 {
                sleep(Duration::from_millis(2)).await;
                y.yield_(n).await;
            }
        });
        let mut got = Vec::new();
        while let Some(n) = ticks.next().await {
            got.push(n);
        }
        assert_eq!(got, [0, 1, 2]);
    });
}

#[test]
fn a_generator_dropped_midway_drops_its_body_and_leaks_nothing() {
    block_on(async {
        let drops = Rc::new(Cell::new(0));
        let mut rows = generate({
            let guard = DropCounter(drops.clone());
            move |mut y| async move {
                let _guard = guard;
                for n in 0.. {
                    y.yield_(DropCounter(Rc::new(Cell::new(n)))).await;
                }
            }
        });
        let first = rows.next().await.expect("a first item");
        drop(first);
        drop(rows); // stopped at its second yield... or before it
        assert_eq!(drops.get(), 1, "the body's own state was dropped");
    });
}

//! race, first and as_completed, through the public API: the winner's
//! output, the losers dropped (counted), outputs in completion order, and
//! only woken children polled.

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use runtime::stream::StreamExt;
use runtime::sync::oneshot;
use runtime::{as_completed, block_on, first, race, yield_now, Either};
use tests::{with_deadline, Counted};

const LIMIT: Duration = Duration::from_secs(30);

// ANCHOR: drop_counter
/// Counts its drops; held by a future so that dropping the future shows.
struct DropCounter(Rc<Cell<usize>>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// A future that never finishes, holding a drop counter.
fn never(drops: &Rc<Cell<usize>>) -> impl Future<Output = u32> {
    let guard = DropCounter(drops.clone());
    async move {
        let _guard = guard;
        std::future::pending::<()>().await;
        unreachable!()
    }
}

#[test]
fn race_gives_the_winner_and_drops_the_loser() {
    block_on(async {
        let drops = Rc::new(Cell::new(0));
        let won = race(never(&drops), async { "quick" }).await;
        assert_eq!(won, Either::Right("quick"));
        assert_eq!(drops.get(), 1, "the loser was dropped");
        let won = race(async { 1 }, never(&drops)).await;
        assert_eq!(won, Either::Left(1));
        assert_eq!(drops.get(), 2);
    });
}
// ANCHOR_END: drop_counter

#[test]
fn race_of_two_ready_futures_is_won_by_the_left() {
    block_on(async {
        assert_eq!(race(async { 'a' }, async { 'b' }).await, Either::Left('a'));
    });
}

#[test]
fn first_gives_index_and_output_and_drops_the_rest() {
    with_deadline(LIMIT, || {
        block_on(async {
            let drops = Rc::new(Cell::new(0));
            let (senders, receivers): (Vec<_>, Vec<_>) = (0..5).map(|_| oneshot::channel()).unzip();
            let children = receivers.into_iter().enumerate().map({
                let drops = drops.clone();
                move |(i, rx)| {
                    let guard = DropCounter(drops.clone());
                    async move {
                        let _guard = guard;
                        rx.await.unwrap_or(i)
                    }
                }
            });
            let mut senders = senders;
            let winner = runtime::spawn(async move { first(children).await });
            yield_now().await; // every child waits now
            senders.remove(3).send(30).unwrap();
            assert_eq!(winner.await.unwrap(), (3, 30));
            assert_eq!(drops.get(), 5, "the winner and the four losers are gone");
        })
    });
}

#[test]
#[should_panic(expected = "no first of nothing")]
fn first_of_nothing_panics() {
    block_on(async {
        let none: Vec<std::future::Ready<u8>> = Vec::new();
        first(none).await;
    });
}

#[test]
fn as_completed_gives_outputs_in_the_order_they_finish() {
    with_deadline(LIMIT, || {
        block_on(async {
            let (senders, receivers): (Vec<_>, Vec<_>) =
                (0..3).map(|_| oneshot::channel::<u32>()).unzip();
            let mut stream = as_completed(
                receivers
                    .into_iter()
                    .map(|rx| async move { rx.await.unwrap() }),
            );
            let mut senders: Vec<Option<_>> = senders.into_iter().map(Some).collect();
            let consumer = runtime::spawn(async move {
                let mut order = Vec::new();
                while let Some(n) = stream.next().await {
                    order.push(n);
                }
                order
            });
            for i in [2, 0, 1] {
                yield_now().await;
                senders[i].take().unwrap().send(i as u32).unwrap();
            }
            assert_eq!(consumer.await.unwrap(), [2, 0, 1]);
        })
    });
}

#[test]
fn dropping_as_completed_drops_the_futures_still_running() {
    block_on(async {
        let drops = Rc::new(Cell::new(0));
        let mut stream = as_completed(vec![
            Box::pin(async { 7u32 }) as std::pin::Pin<Box<dyn Future<Output = u32>>>,
            Box::pin(never(&drops)),
            Box::pin(never(&drops)),
        ]);
        assert_eq!(stream.next().await, Some(7));
        drop(stream);
        assert_eq!(drops.get(), 2);
    });
}

#[test]
fn first_and_as_completed_over_20_000_children_poll_at_most_3n() {
    const N: usize = 20_000;
    with_deadline(LIMIT, || {
        block_on(async {
            // Each child is woken once (it yields once), so a gather-like
            // O(n k) costs 2n polls; polling every child for every output
            // would cost n^2 / 2.
            let polls = Rc::new(Cell::new(0));
            let children = (0..N).map(|i| Counted {
                inner: Box::pin(async move {
                    yield_now().await;
                    i
                }),
                polls: polls.clone(),
            });
            let mut stream = as_completed(children);
            let mut seen = 0;
            while stream.next().await.is_some() {
                seen += 1;
            }
            assert_eq!(seen, N);
            assert!(
                polls.get() <= 3 * N,
                "{} polls for {N} children",
                polls.get()
            );

            let polls = Rc::new(Cell::new(0));
            let children = (0..N).map(|i| Counted {
                inner: Box::pin(async move {
                    for _ in 0..(i % 3) {
                        yield_now().await;
                    }
                    i
                }),
                polls: polls.clone(),
            });
            let (index, output) = first(children).await;
            assert_eq!(index % 3, 0, "a child that never yielded won");
            assert_eq!(index, output);
            assert!(
                polls.get() <= 3 * N,
                "{} polls for {N} children",
                polls.get()
            );
        })
    });
}

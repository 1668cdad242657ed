//! The gather chapter's naive version, run and counted beside looplet's own
//! `gather`, so that you can watch n²/2 polls happen.
//!
//! n children each wait for their own "answer"; a driver task releases the
//! answers one at a time, one per turn of the loop, and wakes the child
//! whose answer came. Every poll of a child is counted. The naive version
//! polls every unfinished child at every wake; looplet's polls only the
//! child that was woken.
//!
//! `cargo run --release --example naive_gather [N ...]` (default: 10 1000 10000).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

// ANCHOR: naive_gather
/// Runs every future to completion inside one task, polling them all each
/// time the task is woken. Correct, and quadratic: every child is polled
/// with the parent's own context, so all children hold the same waker (the
/// parent's), and a wake cannot say which child is ready.
async fn naive_gather<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut children: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = children.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all_done = true;
        for (child, output) in children.iter_mut().zip(outputs.iter_mut()) {
            if output.is_some() {
                continue; // finished in an earlier round
            }
            match child.as_mut().poll(cx) {
                Poll::Ready(value) => *output = Some(value),
                Poll::Pending => all_done = false,
            }
        }
        if all_done {
            Poll::Ready(outputs.iter_mut().map(|o| o.take().unwrap()).collect())
        } else {
            Poll::Pending
        }
    })
    .await
}
// ANCHOR_END: naive_gather

/// What the children and the driver share: how many answers have been
/// released, each child's waker, and the count of child polls.
#[derive(Default)]
struct Answers {
    released: Cell<usize>,
    wakers: RefCell<Vec<Option<Waker>>>,
    polls: Cell<u64>,
}

/// Child `i`: ready once answer `i` is released. Counts each poll.
fn child(i: usize, answers: Rc<Answers>) -> impl Future<Output = usize> {
    std::future::poll_fn(move |cx: &mut Context<'_>| {
        answers.polls.set(answers.polls.get() + 1);
        if answers.released.get() > i {
            return Poll::Ready(i);
        }
        answers.wakers.borrow_mut()[i] = Some(cx.waker().clone());
        Poll::Pending
    })
}

/// Releases the answers one per turn, waking the child each one is for.
async fn driver(n: usize, answers: Rc<Answers>) {
    for i in 0..n {
        runtime::yield_now().await; // one answer per turn of the loop
        answers.released.set(i + 1);
        let waker = answers.wakers.borrow_mut()[i].take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Child polls for `n` children, through `gather_all` (naive or looplet's).
fn count_polls<G, Fut>(n: usize, gather_all: G) -> u64
where
    G: FnOnce(Vec<std::pin::Pin<Box<dyn Future<Output = usize>>>>) -> Fut,
    Fut: Future<Output = Vec<usize>> + 'static,
{
    let answers = Rc::new(Answers::default());
    *answers.wakers.borrow_mut() = vec![None; n];
    let children: Vec<Pin<Box<dyn Future<Output = usize>>>> = (0..n)
        .map(|i| Box::pin(child(i, answers.clone())) as Pin<Box<dyn Future<Output = usize>>>)
        .collect();
    let all = gather_all(children);
    // Both are tasks, so they take turns in the run queue: the driver
    // releases an answer and yields, the gathering task polls.
    let outputs = runtime::block_on({
        let answers = answers.clone();
        async move {
            let gathering = runtime::spawn(all);
            let drive = runtime::spawn(driver(n, answers));
            drive.await.unwrap();
            gathering.await.unwrap()
        }
    });
    assert_eq!(
        outputs,
        (0..n).collect::<Vec<_>>(),
        "outputs in input order"
    );
    answers.polls.get()
}

fn main() {
    let sizes: Vec<usize> = match std::env::args().skip(1).collect::<Vec<_>>() {
        args if args.is_empty() => vec![10, 1_000, 10_000],
        args => args
            .iter()
            .map(|a| a.parse().expect("N is a number"))
            .collect(),
    };
    println!("| n children | naive gather: polls | looplet's gather: polls | polls needed (2n) |");
    println!("|---:|---:|---:|---:|");
    for n in sizes {
        let naive = count_polls(n, naive_gather);
        let ours = count_polls(n, runtime::gather);
        println!("| {n} | {naive} | {ours} | {} |", 2 * n);
    }
}

//! One face for three runtimes, so each workload is written once.
//!
//! Each runtime runs single-threaded, the way looplet does: tokio's
//! current-thread runtime with a `LocalSet` (so tasks need not be `Send`),
//! and smol's `LocalExecutor` driven by async-io's `block_on`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// What a workload needs from a runtime.
pub trait Rt {
    /// A spawned task's handle, resolving to its output.
    type Handle<T: 'static>: Future<Output = T> + Unpin;

    /// Runs `future` on a fresh single-threaded loop on this thread.
    fn block_on<F: Future + 'static>(future: F) -> F::Output
    where
        F::Output: 'static;
    /// Spawns a task on the current loop.
    fn spawn<F: Future + 'static>(future: F) -> Self::Handle<F::Output>
    where
        F::Output: 'static;
    /// Lets the other ready tasks run once.
    fn yield_now() -> impl Future<Output = ()>;
    /// Waits `d` on the runtime's timers.
    fn sleep(d: Duration) -> impl Future<Output = ()>;
    /// Runs `f` on the runtime's blocking pool.
    fn spawn_blocking<R: Send + 'static>(
        f: impl FnOnce() -> R + Send + 'static,
    ) -> impl Future<Output = R>;
    /// Awaits all of `futures` inside the calling task: looplet's `gather`;
    /// for the others, futures-util's `join_all`, their usual answer.
    fn gather<F: Future>(futures: Vec<F>) -> impl Future<Output = Vec<F::Output>> {
        futures_util::future::join_all(futures)
    }
}

/// looplet.
pub struct Looplet;

impl Rt for Looplet {
    type Handle<T: 'static> = Unwrapped<runtime::JoinHandle<T>>;

    fn block_on<F: Future + 'static>(future: F) -> F::Output {
        runtime::block_on(future)
    }
    fn spawn<F: Future + 'static>(future: F) -> Self::Handle<F::Output> {
        Unwrapped(runtime::spawn(future))
    }
    fn yield_now() -> impl Future<Output = ()> {
        runtime::yield_now()
    }
    fn sleep(d: Duration) -> impl Future<Output = ()> {
        runtime::time::sleep(d)
    }
    fn spawn_blocking<R: Send + 'static>(
        f: impl FnOnce() -> R + Send + 'static,
    ) -> impl Future<Output = R> {
        Unwrapped(runtime::spawn_blocking(f))
    }
    fn gather<F: Future>(futures: Vec<F>) -> impl Future<Output = Vec<F::Output>> {
        runtime::gather(futures)
    }
}

/// tokio's current-thread runtime with a `LocalSet`.
pub struct Tokio;

impl Rt for Tokio {
    type Handle<T: 'static> = Unwrapped<tokio::task::JoinHandle<T>>;

    fn block_on<F: Future + 'static>(future: F) -> F::Output {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        tokio::task::LocalSet::new().block_on(&rt, future)
    }
    fn spawn<F: Future + 'static>(future: F) -> Self::Handle<F::Output> {
        Unwrapped(tokio::task::spawn_local(future))
    }
    fn yield_now() -> impl Future<Output = ()> {
        tokio::task::yield_now()
    }
    fn sleep(d: Duration) -> impl Future<Output = ()> {
        tokio::time::sleep(d)
    }
    fn spawn_blocking<R: Send + 'static>(
        f: impl FnOnce() -> R + Send + 'static,
    ) -> impl Future<Output = R> {
        Unwrapped(tokio::task::spawn_blocking(f))
    }
}

/// smol's `LocalExecutor`, with async-io's reactor and timers.
pub struct Smol;

thread_local! {
    /// The executor of the `block_on` running now. A fresh one each time,
    /// as looplet and tokio get a fresh runtime: one kept for the whole
    /// run would keep its task slab grown by earlier lines, and lines that
    /// count heap bytes would not count smol's.
    static SMOL: std::cell::RefCell<Option<std::rc::Rc<smol::LocalExecutor<'static>>>> =
        const { std::cell::RefCell::new(None) };
}

impl Rt for Smol {
    type Handle<T: 'static> = smol::Task<T>;

    fn block_on<F: Future + 'static>(future: F) -> F::Output {
        let ex = std::rc::Rc::new(smol::LocalExecutor::new());
        SMOL.with(|current| *current.borrow_mut() = Some(ex.clone()));
        let output = smol::block_on(ex.run(future));
        SMOL.with(|current| current.borrow_mut().take());
        output
    }
    fn spawn<F: Future + 'static>(future: F) -> Self::Handle<F::Output> {
        SMOL.with(|current| {
            let current = current.borrow();
            let ex = current.as_ref().expect("Smol::spawn inside Smol::block_on");
            ex.spawn(future)
        })
    }
    fn yield_now() -> impl Future<Output = ()> {
        smol::future::yield_now()
    }
    async fn sleep(d: Duration) {
        smol::Timer::after(d).await;
    }
    fn spawn_blocking<R: Send + 'static>(
        f: impl FnOnce() -> R + Send + 'static,
    ) -> impl Future<Output = R> {
        smol::unblock(f)
    }
}

/// A join handle whose `Result` is unwrapped: a benchmark task never fails.
pub struct Unwrapped<H>(H);

impl<T, E: std::fmt::Debug, H: Future<Output = Result<T, E>> + Unpin> Future for Unwrapped<H> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.expect("a benchmark task does not fail"))
    }
}

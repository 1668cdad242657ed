//! Time: `sleep`, `timeout` and `interval`, over the reactor's timer store.
//!
//! A [`Sleep`] registers its deadline and its task's waker in the loop's
//! timer store the first time it is polled. The loop passes the nearest
//! deadline to the OS poll as its timeout, so it sleeps exactly until the
//! first timer is due, then the reactor wakes that timer's task. Dropping a
//! `Sleep` takes its timer out of the store, so a `timeout` whose future won
//! leaves nothing behind.
//!
//! Every `Duration` is accepted: a deadline past the end of time (as with
//! `Duration::MAX`) means "never", and nothing overflows.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;
use reactor::{deadline_after, TimerKey};

use crate::coop;
use crate::handle::LoopHandle;
use crate::observe::{self, Recording, WaitRecord};

/// The loop's time, asyncio's `loop.time()`: `Instant::now()`, except in a
/// loop whose clock is paused (`Builder::start_paused`, with the feature
/// `explore`), where it is the paused clock's time, which moves only when
/// the idle loop jumps it to the next timer. Outside a loop,
/// `Instant::now()`. `sleep`, `timeout` and `interval` measure from it.
pub fn now() -> Instant {
    crate::executor::loop_now().unwrap_or_else(Instant::now)
}

/// Waits until `duration` has passed: asyncio's `await asyncio.sleep(d)`.
///
/// It never returns early. `Duration::MAX` sleeps forever.
///
/// ```
/// use std::time::{Duration, Instant};
/// runtime::block_on(async {
///     let start = Instant::now();
///     runtime::time::sleep(Duration::from_millis(20)).await;
///     assert!(start.elapsed() >= Duration::from_millis(20));
/// });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    Sleep::new(deadline_after(now(), duration))
}

/// Waits until `deadline`. A deadline in the past is ready at once.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(Some(deadline))
}

/// The future of [`sleep`] and [`sleep_until`]. `Send + Sync`, like the
/// sockets: it may move between threads, but it is polled only on the
/// thread of the loop that first polled it (elsewhere it panics saying
/// so), and dropped anywhere (see `handle.rs`).
#[must_use = "a Sleep does nothing unless awaited"]
pub struct Sleep {
    /// `None`: never (the deadline did not fit in an `Instant`).
    deadline: Option<Instant>,
    /// The timer in the loop's store, once polled.
    timer: Option<(TimerKey, LoopHandle)>,
}

impl Sleep {
    fn new(deadline: Option<Instant>) -> Sleep {
        Sleep {
            deadline,
            timer: None,
        }
    }

    /// When this sleep ends; `None` if never.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Moves the deadline, earlier or later, keeping the future (tokio's
    /// `Sleep::reset`; hyper's timer resets its keep-alive sleeps this way).
    /// A task already waiting goes on waiting, for the new deadline.
    pub fn reset(&mut self, deadline: Instant) {
        self.deadline = Some(deadline);
        let Some((key, handle)) = self.timer.take() else {
            return; // not polled yet: the first poll makes the timer
        };
        // Move the timer: its waker goes with it to the new deadline.
        let moved = handle.with_reactor(|reactor| {
            let waker = reactor.timers().cancel(key)?;
            Some(reactor.timers().insert(deadline, waker))
        });
        match moved {
            Some(Some(key)) => self.timer = Some((key, handle)),
            // It fired already: its task is woken, and its next poll makes
            // a timer for the new deadline.
            Some(None) => {}
            None => handle.release(move |reactor| [reactor.timers().cancel(key), None]),
        }
    }
}

impl Future for Sleep {
    type Output = ();

    /// Spends from the task's cooperative budget like every leaf future
    /// (see `coop.rs`), then [`Sleep::poll_sleep`].
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        coop::budgeted(cx, |cx| self.poll_sleep(cx))
    }
}

impl Sleep {
    // ANCHOR: sleep_poll
    fn poll_sleep(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(deadline) = self.deadline else {
            observe::waiting_on(WaitRecord::timer(None));
            return Poll::Pending; // never: no timer, nobody will wake us
        };
        if now() >= deadline {
            self.cancel_timer();
            return Poll::Ready(());
        }
        // Keep our timer's waker current, or make the timer on first poll
        // (or again if it fired early, which the OS's clock may allow).
        let waker = cx.waker();
        let (still_pending, _replaced) = match &self.timer {
            Some((key, handle)) => {
                match handle.with_reactor(|reactor| reactor.timers().set_waker(*key, waker)) {
                    Some(Some(replaced)) => (true, replaced), // dropped outside the reactor
                    Some(None) => (false, None),
                    // Its loop ended: the timer went with it; make a new one.
                    None if handle.has_ended() => (false, None),
                    None => panic!("{}", handle.not_here("this Sleep")),
                }
            }
            None => (false, None),
        };
        if !still_pending {
            let handle = LoopHandle::current("runtime::time::sleep");
            let key = handle
                .with_reactor(|reactor| reactor.timers().insert(deadline, waker.clone()))
                .expect("the current loop is alive while it polls");
            self.timer = Some((key, handle));
        }
        observe::waiting_on(WaitRecord::timer(Some(deadline)));
        Poll::Pending
    }
    // ANCHOR_END: sleep_poll

    fn cancel_timer(&mut self) {
        if let Some((key, handle)) = self.timer.take() {
            // On any thread: see `LoopHandle::release`.
            handle.release(move |reactor| [reactor.timers().cancel(key), None]);
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel_timer();
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

/// Runs `future`, giving up after `duration`: asyncio's
/// `await asyncio.wait_for(aw, t)`. On time out the future is dropped
/// (cancelled) and the result is `Err(Elapsed)`.
///
/// ```
/// use std::time::Duration;
/// use runtime::time::{sleep, timeout};
/// runtime::block_on(async {
///     assert_eq!(timeout(Duration::from_secs(1), async { 5 }).await, Ok(5));
///     let slow = timeout(Duration::from_millis(10), sleep(Duration::from_secs(60)));
///     assert!(slow.await.is_err());
/// });
/// ```
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: sleep(duration),
    }
}

// ANCHOR: timeout
pin_project! {
    /// The future of [`timeout`].
    #[must_use = "a Timeout does nothing unless awaited"]
    #[derive(Debug)]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        sleep: Sleep,
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        // The future first: a result that is ready wins over a deadline.
        let recording = Recording::start_child();
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        let inner = recording.finish();
        match Pin::new(this.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed)),
            Poll::Pending => {
                // What the future waits on says more than "a timer".
                if !inner.is_none() {
                    observe::waiting_on(inner);
                }
                Poll::Pending
            }
        }
    }
}
// ANCHOR_END: timeout

/// The error of a [`timeout`] whose time ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed;

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the timeout elapsed before the future finished")
    }
}

impl std::error::Error for Elapsed {}

/// Ticks every `period`, the first tick at once: a loop of
/// `interval.tick().await` does periodic work.
///
/// A tick that comes late (the loop was busy) is not followed by a burst of
/// catch-up ticks: the next one is scheduled `period` after the late one
/// actually happened. `Duration::ZERO` ticks as fast as the loop allows,
/// letting other tasks run between ticks.
///
/// ```
/// use std::time::Duration;
/// runtime::block_on(async {
///     let mut every = runtime::time::interval(Duration::from_millis(5));
///     let first = every.tick().await;
///     let second = every.tick().await;
///     assert!(second - first >= Duration::from_millis(5));
/// });
/// ```
pub fn interval(period: Duration) -> Interval {
    Interval {
        period,
        next: Some(now()),
        sleep: None,
        yielded: false,
    }
}

/// The ticker of [`interval`]. Also a `Stream` of tick instants, so
/// `while let Some(at) = interval.next().await` works (with
/// [`StreamExt`](crate::stream::StreamExt)).
#[derive(Debug)]
pub struct Interval {
    period: Duration,
    /// When the next tick is due; `None` when it never is (the period
    /// overflowed `Instant`).
    next: Option<Instant>,
    /// The timer of the tick being waited for.
    sleep: Option<Sleep>,
    /// With a zero period: this tick already let the others run once.
    yielded: bool,
}

impl Interval {
    /// Waits for the next tick and returns the instant it was scheduled for.
    pub async fn tick(&mut self) -> Instant {
        std::future::poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// The tick as a poll: `Ready(instant)` when it is due. Keeps its
    /// timer between calls, so polling again does not restart the wait.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        let Some(scheduled) = self.next else {
            return Poll::Pending; // never: no timer, nobody will wake us
        };
        if self.period.is_zero() {
            // As fast as the loop allows, no faster: let every other ready
            // task run once (this is what `yield_now` does) before ticking.
            if !self.yielded {
                self.yielded = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            self.yielded = false;
        } else {
            let sleep = self.sleep.get_or_insert_with(|| sleep_until(scheduled));
            std::task::ready!(Pin::new(sleep).poll(cx));
            self.sleep = None;
        }
        let now = now();
        self.next = match scheduled.checked_add(self.period) {
            Some(next) if next > now => Some(next),
            // Late by a period or more: start again from now, no burst.
            _ => deadline_after(now, self.period),
        };
        Poll::Ready(scheduled)
    }

    /// The time between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }
}

impl futures_core::Stream for Interval {
    type Item = Instant;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().poll_tick(cx).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::poll_fn;

    fn pending_timers() -> usize {
        LoopHandle::current("test")
            .with_reactor(|reactor| reactor.timers().len())
            .unwrap()
    }

    /// Polls `future` once, so a `Sleep` registers its timer.
    async fn poll_once<F: Future + Unpin>(future: &mut F) {
        poll_fn(|cx| {
            let _ = Pin::new(&mut *future).poll(cx);
            Poll::Ready(())
        })
        .await
    }

    #[test]
    fn dropped_sleeps_leave_no_timer_behind() {
        crate::block_on(async {
            let mut sleeps: Vec<Sleep> = (0..100_000)
                .map(|i| sleep(Duration::from_secs(60 + i % 7)))
                .collect();
            for s in &mut sleeps {
                poll_once(s).await;
            }
            assert_eq!(pending_timers(), 100_000);
            drop(sleeps);
            assert_eq!(pending_timers(), 0);
        });
    }

    #[test]
    fn a_timeout_whose_future_wins_leaves_no_timer() {
        crate::block_on(async {
            let won = timeout(Duration::from_secs(60), async {
                crate::yield_now().await; // pending once, so the timer is made
                3
            })
            .await;
            assert_eq!(won, Ok(3));
            assert_eq!(pending_timers(), 0);
        });
    }

    #[test]
    fn a_fired_sleep_leaves_no_timer() {
        crate::block_on(async {
            sleep(Duration::from_millis(1)).await;
            assert_eq!(pending_timers(), 0);
        });
    }

    /// A sleep of an hour, polled once so that its timer is in the store.
    async fn hour_sleep_with_a_timer() -> Sleep {
        let mut sleep = sleep(Duration::from_secs(3600));
        poll_once(&mut sleep).await;
        sleep
    }

    #[test]
    fn a_timer_dropped_on_another_thread_is_released_by_its_loop() {
        crate::block_on(async {
            let sleep = hour_sleep_with_a_timer().await;
            assert_eq!(pending_timers(), 1);
            std::thread::spawn(move || drop(sleep)).join().unwrap();
            for _ in 0..1000 {
                if pending_timers() == 0 {
                    break;
                }
                crate::yield_now().await;
            }
            assert_eq!(pending_timers(), 0, "the loop removed the timer");
        });
    }

    /// A storm of them: 10,000 timers dropped on four other threads at once
    /// all leave the store, and the loop keeps its own timers.
    #[test]
    fn ten_thousand_timers_dropped_on_other_threads_all_leave_the_store() {
        crate::block_on(async {
            let mut sleeps = Vec::new();
            for _ in 0..10_000 {
                sleeps.push(hour_sleep_with_a_timer().await);
            }
            let kept = hour_sleep_with_a_timer().await;
            assert_eq!(pending_timers(), 10_001);
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    let batch: Vec<Sleep> = sleeps.drain(..sleeps.len().min(2_500)).collect();
                    std::thread::spawn(move || drop(batch))
                })
                .collect();
            for thread in threads {
                thread.join().unwrap();
            }
            for _ in 0..1000 {
                if pending_timers() == 1 {
                    break;
                }
                crate::yield_now().await;
            }
            assert_eq!(pending_timers(), 1, "only the timer still held is left");
            drop(kept);
            assert_eq!(pending_timers(), 0);
        });
    }

    #[test]
    fn a_release_after_the_loop_ended_is_dropped_not_queued() {
        let sleep = crate::block_on(hour_sleep_with_a_timer());
        // The loop is gone: dropping on another thread must neither hang
        // nor queue a release that nobody will run.
        std::thread::spawn(move || drop(sleep)).join().unwrap();
    }
}

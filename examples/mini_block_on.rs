//! The smallest event loop that works: one future, one thread, and
//! `std::thread::park` to sleep. Chapter "Futures are state machines that
//! you poll" of the book walks through this file.
//!
//! Run it from the repository root:
//!
//! ```text
//! cargo run --example mini_block_on
//! ```
//!
//! Every line it prints says what just happened: each poll, each wake, each
//! park. The real loop (`runtime/src/executor.rs`) does the same dance with
//! many tasks and the OS poller instead of `park`.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

// ANCHOR: countdown
/// A future that answers "not yet" `remaining` times, then finishes.
struct Countdown {
    remaining: u32,
}

impl Countdown {
    fn new(remaining: u32) -> Countdown {
        Countdown { remaining }
    }
}

impl Future for Countdown {
    type Output = &'static str;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<&'static str> {
        if self.remaining == 0 {
            println!("  Countdown::poll: reached zero, returning Ready");
            return Poll::Ready("liftoff");
        }
        println!(
            "  Countdown::poll: {} to go, returning Pending",
            self.remaining
        );
        self.remaining -= 1;
        // The rule of `Pending`: make sure someone will wake us. Here that
        // someone is us, at once: "poll me again as soon as you can".
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
// ANCHOR_END: countdown

// ANCHOR: delay
/// A future that finishes `duration` after its first poll. A helper thread
/// does the waiting and wakes us: a wake from *another* thread.
struct Delay {
    duration: Duration,
    /// `None` until the first poll: like every Rust future, a `Delay` does
    /// nothing until it is polled.
    shared: Option<Arc<Mutex<DelayState>>>,
}

struct DelayState {
    done: bool,
    waker: Option<Waker>,
}

impl Delay {
    fn new(duration: Duration) -> Delay {
        Delay {
            duration,
            shared: None,
        }
    }
}

impl Future for Delay {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let duration = self.duration;
        let shared = self.shared.get_or_insert_with(|| {
            println!("  Delay::poll: first poll, starting a thread that sleeps {duration:?}");
            let shared = Arc::new(Mutex::new(DelayState {
                done: false,
                waker: None,
            }));
            let for_thread = Arc::clone(&shared);
            thread::spawn(move || {
                thread::sleep(duration);
                let waker = {
                    let mut state = for_thread.lock().unwrap();
                    state.done = true;
                    state.waker.take()
                };
                println!("  (timer thread: time is up, waking the future)");
                if let Some(waker) = waker {
                    waker.wake();
                }
            });
            shared
        });
        // Look at `done` and leave our waker under the same lock, so the
        // timer thread cannot finish in between and wake nobody.
        let mut state = shared.lock().unwrap();
        if state.done {
            println!("  Delay::poll: time is up, returning Ready");
            Poll::Ready(())
        } else {
            println!("  Delay::poll: not yet, leaving my waker and returning Pending");
            state.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}
// ANCHOR_END: delay

// ANCHOR: waker
/// The waker of `block_on`: waking it unparks the thread that waits there.
struct ThreadWaker {
    thread: Thread,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        println!("    waker: unparking the thread that runs block_on");
        self.thread.unpark();
    }
}
// ANCHOR_END: waker

// ANCHOR: block_on
/// Runs one future to completion on this thread: `asyncio.run` in miniature.
fn block_on<F: Future>(future: F) -> F::Output {
    // Pin the future on this stack frame: from now on it never moves.
    let mut future = pin!(future);
    // One waker for the whole run. `Waker::from` turns our `Arc<ThreadWaker>`
    // into a `Waker`; cloning that `Waker` only bumps the `Arc`'s count.
    let waker = Waker::from(Arc::new(ThreadWaker {
        thread: thread::current(),
    }));
    let mut cx = Context::from_waker(&waker);
    let mut polls = 0;
    loop {
        polls += 1;
        println!("block_on: poll #{polls}");
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => {
                println!("block_on: Ready after {polls} polls");
                return output;
            }
            Poll::Pending => {
                println!("block_on: Pending, so park the thread until a wake");
                // Returns at once if `unpark` was called since the last
                // park: the wake is remembered, never lost. It may also
                // return for no reason; then we just poll once more.
                thread::park();
                println!("block_on: unparked");
            }
        }
    }
}
// ANCHOR_END: block_on

// ANCHOR: async_fn
/// Written with `async`/`await`...
async fn launch() -> &'static str {
    let word = Countdown::new(1).await;
    Delay::new(Duration::from_millis(50)).await;
    word
}
// ANCHOR_END: async_fn

// ANCHOR: state_machine
/// ...and written by hand, roughly as the compiler writes `launch` for us:
/// one variant per place the function can be suspended, holding the locals
/// that are alive there.
enum Launch {
    /// Suspended at the first `.await`.
    Counting(Countdown),
    /// Suspended at the second `.await`, with `word` kept for later.
    Waiting { word: &'static str, delay: Delay },
    /// Returned; polling again is a bug.
    Done,
}

impl Future for Launch {
    type Output = &'static str;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<&'static str> {
        loop {
            match &mut *self {
                Launch::Counting(countdown) => match Pin::new(countdown).poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(word) => {
                        let delay = Delay::new(Duration::from_millis(50));
                        *self = Launch::Waiting { word, delay };
                    }
                },
                Launch::Waiting { word, delay } => match Pin::new(delay).poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(()) => {
                        let word = *word;
                        *self = Launch::Done;
                        return Poll::Ready(word);
                    }
                },
                Launch::Done => panic!("`Launch` polled after it returned"),
            }
        }
    }
}
// ANCHOR_END: state_machine

fn main() {
    println!("== 1. A countdown that wakes itself");
    let word = block_on(Countdown::new(2));
    println!("block_on returned {word:?}\n");

    println!("== 2. A delay, woken from another thread");
    block_on(Delay::new(Duration::from_millis(100)));
    println!();

    println!("== 3. An async fn: the compiler's state machine");
    let word = block_on(launch());
    println!("block_on returned {word:?}\n");

    println!("== 4. The same state machine, written by hand");
    let word = block_on(Launch::Counting(Countdown::new(1)));
    println!("block_on returned {word:?}\n");

    // ANCHOR: one_at_a_time
    println!("== 5. Two delays of 100 ms in one block_on");
    let start = Instant::now();
    block_on(async {
        Delay::new(Duration::from_millis(100)).await;
        Delay::new(Duration::from_millis(100)).await;
    });
    let ms = start.elapsed().as_millis();
    println!(
        "took about {} ms: one after the other, never at once",
        ms / 10 * 10
    );
    // ANCHOR_END: one_at_a_time
}

//! Async generators: Python's `async def rows(): ... yield row`, written as
//! straight-line async code that yields values, and seen from outside as a
//! `futures_core::Stream`.
//!
//! ```text
//!   generate(|mut y| async move {        async def rows():
//!       for row in 0..3 {                    for row in range(3):
//!           y.yield_(row).await;                 yield row
//!       }
//!   })
//! ```
//!
//! How it works: the body is an ordinary future, and the `Yielder` it is
//! given shares one slot with the stream. `yield_(v)` puts `v` in the slot
//! and returns `Pending` once, which hands control back to the stream's
//! `poll_next`; that finds the value in the slot and returns it. The next
//! `poll_next` polls the body again, the `yield_` returns, and the body
//! runs on to its next `yield_`. The slot and the body are allocated once,
//! when the generator is made (the body boxed, so that the stream is
//! `Unpin` and `.next().await` works on it as it is): nothing is allocated
//! per item.
//!
//! Generators are lazy, as Python's are: the body runs only while the next
//! item is being asked for.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// Makes a stream from `body`, which yields its items through the
/// [`Yielder`] it is given and ends when it returns.
///
/// ```
/// use runtime::stream::{generate, StreamExt};
/// runtime::block_on(async {
///     let mut squares = generate(|mut y| async move {
///         for n in 1..=3 {
///             y.yield_(n * n).await;
///         }
///     });
///     let mut got = Vec::new();
///     while let Some(n) = squares.next().await {
///         got.push(n);
///     }
///     assert_eq!(got, [1, 4, 9]);
/// });
/// ```
// ANCHOR: generate
pub fn generate<T, F, Fut>(body: F) -> Generate<T, Fut>
where
    F: FnOnce(Yielder<T>) -> Fut,
    Fut: Future<Output = ()>,
{
    let slot = Rc::new(Cell::new(None));
    Generate {
        body: Box::pin(body(Yielder { slot: slot.clone() })),
        slot,
        done: false,
    }
}

/// The body's handle for handing out items. See [`generate`].
pub struct Yielder<T> {
    slot: Rc<Cell<Option<T>>>,
}

impl<T> Yielder<T> {
    /// Hands `value` to whoever asked for the next item, and waits until
    /// the item after it is asked for: Python's `yield value`.
    pub fn yield_(&mut self, value: T) -> Yield<'_, T> {
        Yield {
            yielder: self,
            value: Some(value),
        }
    }
}
// ANCHOR_END: generate

/// The future of [`Yielder::yield_`].
#[must_use = "a value is yielded only when `yield_` is awaited"]
pub struct Yield<'a, T> {
    yielder: &'a mut Yielder<T>,
    value: Option<T>,
}

// ANCHOR: yield
impl<T> Future for Yield<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        match this.value.take() {
            // First poll: leave the value for the stream, and stop here.
            // No wake is needed: the stream is already in its `poll_next`
            // and returns the value at once.
            Some(value) => {
                this.yielder.slot.set(Some(value));
                Poll::Pending
            }
            // Polled again: the next item was asked for. Go on.
            None => Poll::Ready(()),
        }
    }
}
// ANCHOR_END: yield

impl<T> Unpin for Yield<'_, T> {}

/// The stream of [`generate`]: `futures_core::Stream<Item = T>`.
/// Dropping it drops the body where it stopped, as closing a Python
/// generator does (without running more of it).
#[must_use = "streams do nothing unless polled"]
pub struct Generate<T, Fut> {
    body: Pin<Box<Fut>>,
    slot: Rc<Cell<Option<T>>>,
    done: bool,
}

// ANCHOR: poll_next
impl<T, Fut: Future<Output = ()>> futures_core::Stream for Generate<T, Fut> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut(); // Unpin: the body is boxed
        if this.done {
            return Poll::Ready(None);
        }
        // Run the body to its next `yield_` (or its end).
        let finished = this.body.as_mut().poll(cx).is_ready();
        if let Some(value) = this.slot.take() {
            return Poll::Ready(Some(value));
        }
        if finished {
            this.done = true;
            return Poll::Ready(None);
        }
        Poll::Pending // the body waits for something else: its waker will call
    }
}
// ANCHOR_END: poll_next

impl<T> fmt::Debug for Yielder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Yielder")
    }
}

impl<T> fmt::Debug for Yield<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Yield")
            .field("yielded", &self.value.is_none())
            .finish()
    }
}

impl<T, Fut> fmt::Debug for Generate<T, Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generate")
            .field("done", &self.done)
            .finish()
    }
}

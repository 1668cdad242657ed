//! Async iteration: asyncio's `async for x in source` is
//! `while let Some(x) = source.next().await` over a
//! [`futures_core::Stream`].
//!
//! A `Stream` is to `Iterator` what a `Future` is to a plain value: its
//! `poll_next` returns `Pending` when the next item is not there yet, and
//! the waker says when to ask again. looplet's [`Queue`](crate::sync::Queue),
//! [`Interval`](crate::time::Interval) and
//! [`TcpListener::incoming`](crate::net::TcpListener::incoming) are streams;
//! [`StreamExt::next`] gives you the `.next().await` without another crate.
//!
//! ```
//! use runtime::stream::StreamExt;
//! use runtime::sync::Queue;
//! runtime::block_on(async {
//!     let mut queue = Queue::new(0);
//!     for word in ["a", "b", "c"] {
//!         queue.try_put(word).unwrap();
//!     }
//!     let mut seen = String::new();
//!     while let Some(word) = queue.next().await {
//!         seen.push_str(word);
//!         if queue.is_empty() {
//!             break; // a Queue never ends by itself
//!         }
//!     }
//!     assert_eq!(seen, "abc");
//! });
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub use crate::generate::{generate, Generate, Yield, Yielder};
pub use futures_core::Stream;

// ANCHOR: next
/// `.next()` for every [`Stream`]: the one combinator `async for` needs.
pub trait StreamExt: Stream {
    /// The next item, or `None` when the stream has ended.
    fn next(&mut self) -> Next<'_, Self>
    where
        Self: Unpin,
    {
        Next { stream: self }
    }
}

impl<S: Stream + ?Sized> StreamExt for S {}

/// The future of [`StreamExt::next`].
#[derive(Debug)]
#[must_use = "a Next does nothing unless awaited"]
pub struct Next<'a, S: ?Sized> {
    stream: &'a mut S,
}

impl<S: Stream + Unpin + ?Sized> Future for Next<'_, S> {
    type Output = Option<S::Item>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        Pin::new(&mut *self.stream).poll_next(cx)
    }
}
// ANCHOR_END: next

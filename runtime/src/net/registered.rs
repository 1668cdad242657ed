//! A mio socket registered with its loop's reactor: the one place where a
//! non-blocking operation becomes an `.await`.
//!
//! Every socket method in `net` is the same loop, written once here in
//! [`Registered::poll_io`]:
//!
//! ```text
//!   wait until the reactor says "ready"   (Pending, with our waker stored)
//!   try the operation
//!     WouldBlock  -> the socket is drained: clear readiness, wait again
//!     anything else (data, Ok(0), an error) -> that is the answer
//! ```
//!
//! A socket belongs to the loop that was running when it was made: its
//! entry lives in that loop's reactor. Dropping it deregisters it there,
//! then closes it.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::AsRawFd;
use std::task::{ready, Context, Poll};

use mio::event::Source;
use reactor::{Direction, IoKey};

use crate::executor::LoopHandle;
use crate::inspect::{self, WaitRecord};

/// A socket and its registration. `S` is a mio socket type.
pub(crate) struct Registered<S: Source> {
    source: S,
    key: IoKey,
    handle: LoopHandle,
}

impl<S: Source + AsRawFd> Registered<S> {
    /// Registers `source` with the reactor of the loop running on this
    /// thread. `what` names the caller in the panic when no loop runs.
    #[track_caller]
    pub(crate) fn new(mut source: S, what: &str) -> io::Result<Registered<S>> {
        let handle = LoopHandle::current(what);
        let key = handle
            .with_reactor(|reactor| reactor.register(&mut source))
            .ok_or_else(loop_gone)??;
        Ok(Registered {
            source,
            key,
            handle,
        })
    }

    /// The mio socket, for operations that never wait (addresses, options).
    pub(crate) fn source(&self) -> &S {
        &self.source
    }

    /// Ready if the reactor last saw the socket ready in `direction`;
    /// otherwise stores the task's waker and returns `Pending`.
    pub(crate) fn poll_ready(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        match self
            .handle
            .with_reactor(|reactor| reactor.registrations().poll_ready(self.key, direction, cx))
        {
            Some(Poll::Ready(())) => Poll::Ready(Ok(())),
            Some(Poll::Pending) => {
                let write = direction == Direction::Write;
                inspect::waiting_on(WaitRecord::socket(self.source.as_raw_fd(), write));
                Poll::Pending
            }
            None => Poll::Ready(Err(loop_gone())),
        }
    }

    /// The socket was shown to be drained in `direction` (see the
    /// invariant in the reactor's `registrations.rs`).
    pub(crate) fn clear_ready(&self, direction: Direction) {
        self.handle
            .with_reactor(|reactor| reactor.registrations().clear_ready(self.key, direction));
    }

    // ANCHOR: poll_io
    /// Runs `op` until it does not return `WouldBlock`, waiting for the
    /// reactor in between.
    pub(crate) fn poll_io<R>(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            ready!(self.poll_ready(direction, cx))?;
            match op(&self.source) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_ready(direction),
                result => return Poll::Ready(result),
            }
        }
    }
    // ANCHOR_END: poll_io

    /// [`Registered::poll_io`] as a future.
    pub(crate) async fn io<R>(
        &self,
        direction: Direction,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        poll_fn(|cx| self.poll_io(direction, cx, &mut op)).await
    }
}

impl<S: Source> Drop for Registered<S> {
    fn drop(&mut self) {
        // If the loop is gone, so is its poller, and nothing watches us.
        self.handle
            .with_reactor(|reactor| reactor.deregister(&mut self.source, self.key));
    }
}

impl<S: Source + fmt::Debug> fmt::Debug for Registered<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.source.fmt(f)
    }
}

fn loop_gone() -> io::Error {
    io::Error::other(
        "the event loop this socket was made in has ended (or is busy turning): \
         use a socket only inside the block_on that created it",
    )
}

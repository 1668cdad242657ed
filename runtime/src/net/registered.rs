//! A mio socket registered with its loop's reactor: the one place where a
//! non-blocking operation becomes an `.await`.
//!
//! Every socket method in `net` is the same loop, written once here in
//! [`Registered::poll_io`]:
//!
//! ```text
//!   spend from the task's budget (or yield, if it is spent: coop.rs)
//!   wait until the reactor says "ready"   (Pending, in the wait list)
//!   try the operation
//!     WouldBlock  -> the socket is drained: clear readiness, wait again
//!     anything else (data, Ok(0), an error) -> that is the answer
//! ```
//!
//! # Several waiters
//!
//! A method that takes `&self` (`accept`, `recv_from`, `send_to`) can be
//! awaited by several tasks at once, so each call keeps its own place in
//! the reactor's wait list for its direction: a [`Waiting`] guard, held in
//! the call's future, which leaves the list when the future finishes or is
//! dropped. The `poll_*` methods of `AsyncRead` and `AsyncWrite` have no
//! future to keep a place in; they use one place per direction kept here
//! (`polled`), as tokio's do: one reader and one writer at a time through
//! that door.
//!
//! A socket belongs to the loop that was running when it was made: its
//! entry lives in that loop's reactor. Dropping it frees its places in the
//! wait lists, deregisters it there, then closes it.

use std::cell::Cell;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::AsRawFd;
use std::task::{ready, Context, Poll};

use mio::event::Source;
use reactor::wait_list::WaiterKey;
use reactor::{Direction, IoKey};

use crate::coop;
use crate::executor::LoopHandle;
use crate::observe::{self, WaitRecord};

/// A socket and its registration. `S` is a mio socket type.
pub(crate) struct Registered<S: Source> {
    source: S,
    key: IoKey,
    handle: LoopHandle,
    /// The wait-list places of the poll-style callers, by direction
    /// (read, write). See the module docs.
    polled: [Cell<Option<WaiterKey>>; 2],
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
            polled: [Cell::new(None), Cell::new(None)],
        })
    }

    /// The mio socket, for operations that never wait (addresses, options).
    pub(crate) fn source(&self) -> &S {
        &self.source
    }

    /// Ready if the reactor last saw the socket ready in `direction`;
    /// otherwise puts the caller in the wait list (its place is `waiter`)
    /// and returns `Pending`.
    pub(crate) fn poll_ready(
        &self,
        direction: Direction,
        waiter: &mut Option<WaiterKey>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        let answer = self.handle.with_reactor(|reactor| {
            let registrations = reactor.registrations();
            registrations.poll_ready(self.key, direction, waiter, cx.waker())
        });
        // A waker taken out of the list is dropped here, outside the reactor.
        match answer {
            Some((Poll::Ready(()), _old)) => Poll::Ready(Ok(())),
            Some((Poll::Pending, _old)) => {
                let write = direction == Direction::Write;
                observe::waiting_on(WaitRecord::socket(self.source.as_raw_fd(), write));
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
    /// reactor in between; `waiter` is the caller's place in the wait list.
    pub(crate) fn poll_io<R>(
        &self,
        direction: Direction,
        waiter: &mut Option<WaiterKey>,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        coop::budgeted(cx, |cx| loop {
            ready!(self.poll_ready(direction, waiter, cx))?;
            match op(&self.source) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_ready(direction),
                result => return Poll::Ready(result),
            }
        })
    }
    // ANCHOR_END: poll_io

    /// [`Registered::poll_io`] for the poll-style callers, in this
    /// socket's own place for `direction`.
    pub(crate) fn poll_io_polled<R>(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
        op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let place = &self.polled[direction as usize];
        let mut waiter = place.get();
        let result = self.poll_io(direction, &mut waiter, cx, op);
        place.set(waiter);
        result
    }

    /// [`Registered::poll_ready`] in this socket's own place for `direction`.
    pub(crate) fn poll_ready_polled(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        let place = &self.polled[direction as usize];
        let mut waiter = place.get();
        let result = self.poll_ready(direction, &mut waiter, cx);
        place.set(waiter);
        result
    }

    /// [`Registered::poll_io`] as a future with a place of its own in the
    /// wait list, so any number of them can wait on one socket.
    pub(crate) async fn io<R>(
        &self,
        direction: Direction,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        let mut waiting = self.waiting(direction);
        poll_fn(|cx| waiting.poll_io(cx, &mut op)).await
    }

    /// A place of one's own in the wait list for `direction`, freed on drop.
    pub(crate) fn waiting(&self, direction: Direction) -> Waiting<'_, S> {
        Waiting {
            io: self,
            direction,
            waiter: None,
        }
    }

    /// Frees the place `waiter` in the wait list for `direction`.
    fn leave(&self, direction: Direction, waiter: &mut Option<WaiterKey>) {
        if waiter.is_some() {
            let _old = self
                .handle
                .with_reactor(|reactor| reactor.registrations().leave(self.key, direction, waiter));
        }
    }
}

// ANCHOR: waiting
/// One caller's place in a socket's wait list. Dropping it (the future that
/// holds it finished or was cancelled) frees the place at once.
pub(crate) struct Waiting<'a, S: Source + AsRawFd> {
    io: &'a Registered<S>,
    direction: Direction,
    waiter: Option<WaiterKey>,
}

impl<S: Source + AsRawFd> Waiting<'_, S> {
    pub(crate) fn poll_io<R>(
        &mut self,
        cx: &mut Context<'_>,
        op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.io.poll_io(self.direction, &mut self.waiter, cx, op)
    }
}

impl<S: Source + AsRawFd> Drop for Waiting<'_, S> {
    fn drop(&mut self) {
        self.io.leave(self.direction, &mut self.waiter);
    }
}
// ANCHOR_END: waiting

impl<S: Source> Registered<S> {
    /// Stops watching the socket and gives it back, open (the signal pipes
    /// are kept for reuse this way).
    #[cfg_attr(not(unix), allow(dead_code))]
    pub(crate) fn into_inner(self) -> S {
        let mut this = std::mem::ManuallyDrop::new(self);
        this.release();
        // The other fields are plain `Copy` values, with nothing to drop.
        // SAFETY: `this` is never dropped (`ManuallyDrop`) nor used again,
        // so each owning field is moved out exactly once.
        let source = unsafe { std::ptr::read(&this.source) };
        // SAFETY: as above: read once, from a value that is never dropped.
        let handle = unsafe { std::ptr::read(&this.handle) };
        drop(handle);
        source
    }

    /// Frees the socket's places in the wait lists and deregisters it.
    fn release(&mut self) {
        // If the loop is gone, so is its poller, and nothing watches us.
        let _old = self.handle.with_reactor(|reactor| {
            let [mut read, mut write] = [self.polled[0].take(), self.polled[1].take()];
            let registrations = reactor.registrations();
            let old = [
                registrations.leave(self.key, Direction::Read, &mut read),
                registrations.leave(self.key, Direction::Write, &mut write),
            ];
            reactor.deregister(&mut self.source, self.key);
            old
        });
    }
}

impl<S: Source> Drop for Registered<S> {
    fn drop(&mut self) {
        self.release();
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

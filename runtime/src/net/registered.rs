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
//! entry lives in that loop's reactor, reached through a `LoopHandle`
//! (`handle.rs`). It is `Send + Sync` and may move between threads, but it
//! works only on its loop's thread; anywhere else every operation gives an
//! error saying so. Dropped on its loop's thread, it frees its places in the
//! wait lists, deregisters, then closes. Dropped anywhere else, it closes at
//! once (which takes it out of epoll) and leaves the freeing of its reactor
//! entry to the loop.

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
use crate::handle::LoopHandle;
use crate::observe::{self, WaitRecord};

/// A socket and its registration. `S` is a mio socket type.
pub(crate) struct Registered<S: Source> {
    source: S,
    key: IoKey,
    handle: LoopHandle,
    /// The wait-list places of the poll-style callers, by direction
    /// (read, write). See the module docs. Touched only on the loop's
    /// thread: see the `Sync` below.
    polled: [Cell<Option<WaiterKey>>; 2],
}

// ANCHOR: sync
// SAFETY: the only part of a `Registered` that is not `Sync` is `polled`,
// and it is read or written only on the thread that made the socket's loop:
// `poll_io_polled` and `poll_ready_polled` check `on_its_thread` first, and
// `release` runs with `&mut self`. So two threads never touch the `Cell`s
// at once. (`S` is a mio socket: `Sync` itself.)
unsafe impl<S: Source + Sync> Sync for Registered<S> {}
// ANCHOR_END: sync

impl<S: Source + AsRawFd> Registered<S> {
    /// Registers `source` with the reactor of the loop running on this
    /// thread. `what` names the caller in the panic when no loop runs.
    #[track_caller]
    pub(crate) fn new(mut source: S, what: &str) -> io::Result<Registered<S>> {
        let handle = LoopHandle::current(what);
        let key = handle
            .with_reactor(|reactor| reactor.register(&mut source))
            .ok_or_else(|| not_here(&handle))??;
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
            None => Poll::Ready(Err(not_here(&self.handle))),
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
        if !self.handle.on_its_thread() {
            return Poll::Ready(Err(not_here(&self.handle)));
        }
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
        if !self.handle.on_its_thread() {
            return Poll::Ready(Err(not_here(&self.handle)));
        }
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

    /// Frees the socket's places in the wait lists and deregisters it: at
    /// once on the loop's thread; anywhere else the loop does it in its
    /// next turn, and the socket, closed when this `Registered` is dropped,
    /// has already left epoll by then (closing does that).
    fn release(&mut self) {
        let places = [self.polled[0].take(), self.polled[1].take()];
        let key = self.key;
        let source = &mut self.source;
        let done = self.handle.with_reactor(|reactor| {
            let old = leave_both(reactor, key, places);
            reactor.deregister(source, key);
            old
        });
        if done.is_none() {
            self.handle.release(move |reactor| {
                let old = leave_both(reactor, key, places);
                reactor.forget(key);
                old
            });
        }
    }
}

/// Frees the poll-style callers' places (see `polled`), giving back their
/// wakers to drop outside the reactor.
fn leave_both(
    reactor: &mut reactor::Reactor,
    key: IoKey,
    [mut read, mut write]: [Option<WaiterKey>; 2],
) -> [Option<std::task::Waker>; 2] {
    let registrations = reactor.registrations();
    [
        registrations.leave(key, Direction::Read, &mut read),
        registrations.leave(key, Direction::Write, &mut write),
    ]
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

/// The error of a socket used where its loop is not running.
fn not_here(handle: &LoopHandle) -> io::Error {
    io::Error::other(handle.not_here("this socket"))
}

#[cfg(test)]
mod tests {
    use crate::handle::LoopHandle;
    use std::io::Read;

    fn registrations() -> usize {
        LoopHandle::current("test")
            .with_reactor(|reactor| reactor.registrations().len())
            .unwrap()
    }

    #[test]
    fn sockets_dropped_on_another_thread_are_released_by_their_loop() {
        crate::block_on(async {
            let baseline = registrations();
            let listener = crate::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let mut peer = std::net::TcpStream::connect(addr).unwrap();
            let (stream, _) = listener.accept().await.unwrap();
            let udp = crate::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
            assert_eq!(registrations(), baseline + 3);
            std::thread::spawn(move || drop((listener, stream, udp)))
                .join()
                .unwrap();
            // Closed at once, on that thread: the peer sees the end now,
            // before the loop has turned.
            let mut byte = [0u8; 1];
            assert_eq!(peer.read(&mut byte).unwrap(), 0);
            // Each turn of the loop takes in what other threads handed over.
            for _ in 0..1000 {
                if registrations() == baseline {
                    break;
                }
                crate::yield_now().await;
            }
            assert_eq!(registrations(), baseline, "every entry freed by the loop");
        });
    }
}

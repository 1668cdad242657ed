//! hyper on looplet (cargo feature `hyper`): the pieces hyper asks of a
//! runtime, and a connector for hyper-util's pooled client.
//!
//! hyper 1.x brings no event loop of its own. It asks the runtime for three
//! things, as traits in `hyper::rt`:
//!
//! - **I/O** (`rt::Read`, `rt::Write`): [`Io`] wraps any futures-io stream,
//!   a `TcpStream`, a `UnixStream`, a split half;
//! - **an executor** (`rt::Executor`), for the tasks hyper starts itself:
//!   one per HTTP/2 stream, one per pooled client connection.
//!   [`Executor`] spawns them on the current loop;
//! - **a timer** (`rt::Timer`), for header-read timeouts, keep-alive and
//!   the pool's idle expiry. [`Timer`] hands out `runtime::time::Sleep`s,
//!   which are `Send + Sync` as hyper's `rt::Sleep` demands (see `handle.rs`
//!   for how a timer can be `Send` on a one-thread loop).
//!
//! hyper-util's pooled `Client` also wants a connector, a `tower` service
//! from a URI to a connection; [`Connector`] opens plain TCP connections
//! with `runtime::net`. None of this needs `unsafe`: [`Io`] reads into a
//! loop-wide scratch buffer and copies into hyper's, because hyper hands
//! out its buffer only as uninitialised memory, which safe code may not
//! read into.
//!
//! ```no_run
//! # async fn serve() -> std::io::Result<()> {
//! use runtime::hyper::{Io, Timer};
//! let listener = runtime::net::TcpListener::bind("127.0.0.1:8080").await?;
//! loop {
//!     let (stream, _) = listener.accept().await?;
//!     runtime::spawn(async move {
//!         let service = hyper::service::service_fn(|_request| async {
//!             Ok::<_, std::convert::Infallible>(hyper::Response::new(String::from("hello\n")))
//!         });
//!         let _ = hyper::server::conn::http1::Builder::new()
//!             .timer(Timer)
//!             .serve_connection(Io::new(stream), service)
//!             .await;
//!     });
//! }
//! # }
//! ```

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_io::{AsyncRead, AsyncWrite};
use pin_project_lite::pin_project;

use crate::net::TcpStream;

pin_project! {
    /// A futures-io stream as hyper's `rt::Read + rt::Write`. `Unpin` and
    /// `Send` when the stream is.
    #[derive(Debug)]
    pub struct Io<T> {
        #[pin]
        inner: T,
    }
}

impl<T> Io<T> {
    /// Wraps `stream` for hyper.
    pub fn new(stream: T) -> Io<T> {
        Io { inner: stream }
    }

    /// The stream inside.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The stream inside, to use directly.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

/// The most one read moves, through the scratch buffer.
const SCRATCH: usize = 64 << 10;

thread_local! {
    /// One scratch buffer per thread, zeroed once, for every [`Io`] on it:
    /// a read lands here, then is copied into hyper's buffer. Taken out for
    /// the length of a read (so a read inside a read, were a stream to do
    /// that, gets an empty one and makes its own).
    static SCRATCH_BUFFER: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

// ANCHOR: read
impl<T: AsyncRead> hyper::rt::Read for Io<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let mut scratch = SCRATCH_BUFFER.take();
        if scratch.len() < SCRATCH {
            scratch = vec![0; SCRATCH];
        }
        let want = buf.remaining().min(SCRATCH);
        let read = self.project().inner.poll_read(cx, &mut scratch[..want]);
        if let Poll::Ready(Ok(n)) = read {
            buf.put_slice(&scratch[..n]);
        }
        SCRATCH_BUFFER.set(scratch);
        read.map_ok(|_| ())
    }
}
// ANCHOR_END: read

impl<T: AsyncWrite> hyper::rt::Write for Io<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_close(cx)
    }
}

/// The other way round: a hyper connection's I/O (an upgraded connection,
/// say) as futures-io, for the futures ecosystem's helpers.
impl<T: AsyncRead> AsyncRead for Io<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_read(cx, buf)
    }
}

impl<T: AsyncWrite> AsyncWrite for Io<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_close(cx)
    }
}

/// A pooled client's connections say nothing special about themselves
/// (no proxy, no negotiated protocol).
impl<T> hyper_util::client::legacy::connect::Connection for Io<T> {
    fn connected(&self) -> hyper_util::client::legacy::connect::Connected {
        hyper_util::client::legacy::connect::Connected::new()
    }
}

/// hyper's executor: spawns hyper's own tasks on the current loop, as
/// `runtime::spawn` does (so they need not be `Send`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Executor;

impl<F> hyper::rt::Executor<F> for Executor
where
    F: Future + 'static,
    F::Output: 'static,
{
    fn execute(&self, future: F) {
        drop(crate::spawn(future)); // detached: hyper watches it itself
    }
}

// ANCHOR: timer
/// hyper's timer, over `runtime::time`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timer;

impl hyper::rt::Sleep for crate::time::Sleep {}

impl hyper::rt::Timer for Timer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(crate::time::sleep(duration))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(crate::time::sleep_until(deadline))
    }

    /// Moves one of our sleeps in place, with no new allocation.
    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<crate::time::Sleep>() {
            Some(ours) => ours.get_mut().reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}
// ANCHOR_END: timer

/// A connector for hyper-util's pooled `Client`: plain TCP (no TLS) with
/// `runtime::net`, Nagle off. The host name is looked up on the blocking
/// pool, as `TcpStream::connect` does.
#[derive(Debug, Clone, Copy, Default)]
pub struct Connector;

impl tower_service::Service<hyper::Uri> for Connector {
    type Response = Io<TcpStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Io<TcpStream>>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: hyper::Uri) -> Self::Future {
        Box::pin(async move {
            if uri.scheme_str() == Some("https") {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    format!("{uri}: runtime::hyper::Connector speaks plain http only (no TLS)"),
                ));
            }
            let host = uri.host().ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{uri:?} has no host to connect to"),
                )
            })?;
            // An IPv6 literal comes in brackets in a URI.
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let stream = TcpStream::connect((host, uri.port_u16().unwrap_or(80))).await?;
            stream.set_nodelay(true)?;
            Ok(Io::new(stream))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::rt::Timer as _;

    fn poll_sleep(sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, cx: &mut Context<'_>) -> Poll<()> {
        sleep.as_mut().poll(cx)
    }

    #[test]
    fn the_timer_sleeps_and_resets_in_place() {
        crate::block_on(async {
            let start = Instant::now();
            let mut sleep = Timer.sleep(Duration::from_secs(3600));
            let pending = std::future::poll_fn(|cx| Poll::Ready(poll_sleep(&mut sleep, cx))).await;
            assert!(pending.is_pending());
            Timer.reset(&mut sleep, Instant::now() + Duration::from_millis(20));
            assert!(sleep
                .as_mut()
                .downcast_mut_pin::<crate::time::Sleep>()
                .is_some());
            std::future::poll_fn(|cx| poll_sleep(&mut sleep, cx)).await;
            let took = start.elapsed();
            assert!(took >= Duration::from_millis(20), "{took:?}");
            assert!(took < Duration::from_secs(60), "{took:?}");
        });
    }
}

//! TCP: a listener that accepts connections and a stream that reads and
//! writes bytes, asyncio's `start_server` and `open_connection`.
//!
//! Each method is the `poll_io` loop of `registered.rs` around one mio call.
//! Two things are particular to TCP:
//!
//! - **connect** is non-blocking too: the OS starts the handshake and
//!   answers at once. The socket turns writable when the handshake ends,
//!   either way; only then do we ask the socket itself how it went
//!   (`SO_ERROR`, then `getpeername`), so a refused connection is the OS's
//!   own error, never a guess.
//! - **a short read or write** (fewer bytes than asked) also shows the
//!   socket drained, so readiness is cleared right there. That saves the
//!   extra `read` that would only return `WouldBlock`: one echoed message
//!   costs one `read` and one `write`.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use reactor::Direction;

use super::registered::{Registered, Waiting};
use super::{first_that_works, with_context, ToSocketAddrs};

/// A TCP server socket: asyncio's `start_server`, without the callback.
///
/// ```
/// runtime::block_on(async {
///     let listener = runtime::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
///     println!("listening on {}", listener.local_addr().unwrap());
/// });
/// ```
pub struct TcpListener {
    io: Registered<mio::net::TcpListener>,
}

impl TcpListener {
    /// Opens a listening socket on `addr` (port 0: any free port). With a
    /// name that resolves to several addresses, the first that binds wins.
    ///
    /// An address that is taken fails with `ErrorKind::AddrInUse`.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        first_that_works(addr, |addr| async move {
            let listener = mio::net::TcpListener::bind(addr)
                .and_then(deepen_backlog)
                .map_err(|e| {
                    with_context(
                        e,
                        format!("could not listen on {addr}"),
                        "is another server using that port? Pick another, or 0 for any free one",
                    )
                })?;
            Ok(TcpListener {
                io: Registered::new(listener, "runtime::net::TcpListener::bind")?,
            })
        })
        .await
    }

    /// Takes over a listener opened with std (or by hand, with options std
    /// does not offer, such as `SO_REUSEPORT`), as tokio's `from_std` does.
    /// It is made non-blocking and registered with this thread's loop.
    ///
    /// # Panics
    ///
    /// Outside a running loop, like `bind`.
    #[track_caller]
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            io: Registered::new(
                mio::net::TcpListener::from_std(listener),
                "runtime::net::TcpListener::from_std",
            )?,
        })
    }

    // ANCHOR: accept
    /// Waits for a connection and returns it with the peer's address.
    ///
    /// An error here is about one connection, or a passing shortage (for
    /// example "too many open files"): the listener still works. A server
    /// should log it, wait a little if it is a shortage, and accept again.
    ///
    /// Several tasks may wait in `accept` on one listener (shared through an
    /// `Rc`, say): each waits in its own place, and each connection goes to
    /// one of them. Cancel-safe: dropping the future loses no connection.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let mut waiting = self.io.waiting(Direction::Read);
        poll_fn(|cx| poll_accept(&mut waiting, cx)).await
    }
    // ANCHOR_END: accept

    /// The incoming connections as a `Stream`, for
    /// `while let Some(conn) = incoming.next().await`. Each item is what
    /// [`accept`](TcpListener::accept) would give, without the address; the
    /// stream never ends.
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming {
            waiting: self.io.waiting(Direction::Read),
        }
    }

    /// The address the listener is bound to (the real port, after port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().local_addr()
    }
}

/// How many finished handshakes the kernel queues for `accept` (Linux caps
/// it at `net.core.somaxconn`). mio, like std, asks for 128, which a burst
/// of a few hundred connects overflows while the loop is busy: the kernel
/// then drops SYNs and clients wait a whole second to retry.
const BACKLOG: i32 = 1024;

/// Calls `listen` again with [`BACKLOG`]; on a listening socket that only
/// changes the queue's length.
#[cfg(unix)]
fn deepen_backlog(listener: mio::net::TcpListener) -> io::Result<mio::net::TcpListener> {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor belongs to `listener`, which is alive across
    // the call; `listen` does not take ownership of it.
    if unsafe { libc::listen(listener.as_raw_fd(), BACKLOG) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(listener)
}

#[cfg(not(unix))]
fn deepen_backlog(listener: mio::net::TcpListener) -> io::Result<mio::net::TcpListener> {
    Ok(listener)
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}

/// One `accept` on a listener, in the caller's own place in the wait list.
fn poll_accept(
    waiting: &mut Waiting<'_, mio::net::TcpListener>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
    let (stream, peer) = ready!(waiting.poll_io(cx, |l| l.accept()))?;
    Poll::Ready(TcpStream::from_mio(stream).map(|stream| (stream, peer)))
}

/// The stream of [`TcpListener::incoming`]. It keeps its place in the
/// listener's wait list between items.
pub struct Incoming<'a> {
    waiting: Waiting<'a, mio::net::TcpListener>,
}

impl futures_core::Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let accepted = ready!(poll_accept(&mut self.waiting, cx));
        Poll::Ready(Some(accepted.map(|(stream, _)| stream)))
    }
}

impl fmt::Debug for Incoming<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Incoming")
    }
}

/// A TCP connection: asyncio's `StreamReader` and `StreamWriter` in one.
///
/// It also implements `futures_io::AsyncRead` and `AsyncWrite`, so the
/// futures ecosystem's readers, writers and codecs work on it.
pub struct TcpStream {
    io: Registered<mio::net::TcpStream>,
}

impl TcpStream {
    /// Connects to `addr`. With a name that resolves to several addresses,
    /// each is tried in turn and the first that answers wins.
    ///
    /// A port nobody listens on fails with `ErrorKind::ConnectionRefused`.
    ///
    /// Dropping the future midway closes the half-open socket: nothing is
    /// left behind, and nothing is connected.
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        first_that_works(addr, TcpStream::connect_to).await
    }

    // ANCHOR: connect
    async fn connect_to(addr: SocketAddr) -> io::Result<TcpStream> {
        let stream = TcpStream::from_mio(mio::net::TcpStream::connect(addr)?)?;
        // The handshake is under way. Each time the socket turns writable,
        // ask it how the connect went: an error, connected, or not yet.
        poll_fn(|cx| loop {
            ready!(stream.io.poll_ready_polled(Direction::Write, cx))?;
            if let Some(e) = stream.io.source().take_error()? {
                return Poll::Ready(Err(e));
            }
            match stream.io.source().peer_addr() {
                Ok(_) => return Poll::Ready(Ok(())),
                Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                    stream.io.clear_ready(Direction::Write); // not yet
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        })
        .await
        .map_err(|e| {
            with_context(
                e,
                format!("could not connect to {addr}"),
                "is a server listening there?",
            )
        })?;
        Ok(stream)
    }
    // ANCHOR_END: connect

    fn from_mio(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: Registered::new(stream, "runtime::net::TcpStream")?,
        })
    }

    /// Reads into `buf` and returns how many bytes came; `Ok(0)` means the
    /// peer closed its side (end of stream), or `buf` is empty.
    ///
    /// An empty `buf` gives `Ok(0)` at once, without waiting, as std's
    /// `Read::read` does (tokio's waits for readiness first): a call that
    /// can read nothing has nothing to wait for.
    ///
    /// Cancel-safe: if the future is dropped before it finishes, no byte
    /// was read.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read(buf).await
    }

    /// Reads exactly `buf.len()` bytes. If the stream ends first, fails with
    /// `ErrorKind::UnexpectedEof` (the bytes read so far are in `buf`).
    ///
    /// Not cancel-safe: if the future is dropped midway (by `timeout` or
    /// `race`), the bytes it had read are in `buf` but nobody knows how many,
    /// and they are gone from the stream. To read under a deadline, put the
    /// deadline around the whole exchange, or read with `read` in a loop.
    pub async fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        self.io.read_exact(buf).await
    }

    /// Writes some of `buf` and returns how many bytes were taken. An empty
    /// `buf` gives `Ok(0)` at once.
    ///
    /// Cancel-safe: a future dropped before it finishes wrote nothing.
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.io.write(buf).await
    }

    /// Writes all of `buf`, waiting whenever the socket's buffer is full.
    ///
    /// Not cancel-safe: if the future is dropped midway, some of `buf` may
    /// have been sent and the rest not, and the caller cannot tell how much.
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.io.write_all(buf).await
    }

    /// Shuts down reading, writing or both. After `Shutdown::Write` the peer
    /// reads `Ok(0)`: asyncio's `writer.write_eof()`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.source().shutdown(how)
    }

    /// The address of the other end.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().peer_addr()
    }

    /// The address of this end.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().local_addr()
    }

    /// Turns Nagle's algorithm off (`true`) so small writes go out at once.
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.io.source().set_nodelay(on)
    }
}

super::byte_stream::stream_traits_and_halves!(TcpStream);

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}

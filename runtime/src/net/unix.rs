//! Unix domain sockets: `UnixListener`, `UnixStream` and `UnixDatagram`,
//! asyncio's `start_unix_server` / `open_unix_connection`. Addresses are
//! paths in the file system; everything else is the TCP and UDP code
//! (`registered.rs` for the waiting, `byte_stream.rs` for the bytes).

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use std::task::{ready, Poll};

use reactor::Direction;

use super::registered::Registered;

/// A Unix domain socket server, listening on a path.
///
/// ```
/// use runtime::net::{UnixListener, UnixStream};
/// runtime::block_on(async {
///     let path = std::env::temp_dir().join(format!("looplet-doc-{}.sock", std::process::id()));
///     let _ = std::fs::remove_file(&path);
///     let listener = UnixListener::bind(&path).await.unwrap();
///     let client = runtime::spawn({
///         let path = path.clone();
///         async move {
///             let mut stream = UnixStream::connect(&path).await.unwrap();
///             stream.write_all(b"ping").await.unwrap();
///         }
///     });
///     let (mut conn, _) = listener.accept().await.unwrap();
///     let mut buf = [0; 4];
///     conn.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"ping");
///     client.await.unwrap();
///     let _ = std::fs::remove_file(&path);
/// });
/// ```
pub struct UnixListener {
    io: Registered<mio::net::UnixListener>,
}

impl UnixListener {
    /// Listens on `path`. A path that exists already (a socket left from
    /// an earlier run, say) fails with `ErrorKind::AddrInUse`: remove it
    /// first.
    pub async fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let path = path.as_ref();
        let listener = mio::net::UnixListener::bind(path).map_err(|e| {
            super::with_context(
                e,
                format!("could not listen on {}", path.display()),
                "does the path exist already? Remove a socket left from an earlier run",
            )
        })?;
        Ok(UnixListener {
            io: Registered::new(listener, "runtime::net::UnixListener::bind")?,
        })
    }

    /// Waits for a connection. Several tasks may wait here at once; each
    /// connection goes to one of them. Cancel-safe.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let mut waiting = self.io.waiting(Direction::Read);
        let (stream, addr) =
            std::future::poll_fn(|cx| waiting.poll_io(cx, |listener| listener.accept())).await?;
        Ok((UnixStream::from_mio(stream)?, addr))
    }

    /// The path the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().local_addr()
    }
}

/// A connected Unix domain stream socket: `TcpStream`'s methods and
/// traits, over a path.
pub struct UnixStream {
    io: Registered<mio::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path`. Nobody listening there fails with
    /// `ErrorKind::ConnectionRefused` (or `NotFound` for no such path).
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let path = path.as_ref();
        let stream = mio::net::UnixStream::connect(path).map_err(|e| {
            super::with_context(
                e,
                format!("could not connect to {}", path.display()),
                "is a server listening there?",
            )
        })?;
        let stream = UnixStream::from_mio(stream)?;
        // A Unix connect usually completes at once; if not, the socket turns
        // writable when it does, and SO_ERROR says how it went.
        std::future::poll_fn(|cx| {
            ready!(stream.io.poll_ready_polled(Direction::Write, cx))?;
            match stream.io.source().take_error()? {
                Some(e) => Poll::Ready(Err(e)),
                None => Poll::Ready(Ok(())),
            }
        })
        .await?;
        Ok(stream)
    }

    fn from_mio(stream: mio::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: Registered::new(stream, "runtime::net::UnixStream")?,
        })
    }

    /// Reads into `buf`; `Ok(0)` at end of stream (or for an empty `buf`).
    /// Cancel-safe.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read(buf).await
    }

    /// Reads exactly `buf.len()` bytes. Not cancel-safe (see `TcpStream`).
    pub async fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        self.io.read_exact(buf).await
    }

    /// Writes some of `buf`. Cancel-safe.
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.io.write(buf).await
    }

    /// Writes all of `buf`. Not cancel-safe (see `TcpStream`).
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.io.write_all(buf).await
    }

    /// Shuts down reading, writing or both.
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
}

super::byte_stream::stream_traits_and_halves!(UnixStream);

/// A Unix domain datagram socket: `UdpSocket`'s methods, over paths.
/// Several tasks may send and receive on one socket at once.
pub struct UnixDatagram {
    io: Registered<mio::net::UnixDatagram>,
}

impl UnixDatagram {
    /// A datagram socket bound to `path`.
    pub async fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        let path = path.as_ref();
        let socket = mio::net::UnixDatagram::bind(path).map_err(|e| {
            super::with_context(
                e,
                format!("could not bind {}", path.display()),
                "does the path exist already? Remove a socket left from an earlier run",
            )
        })?;
        Ok(UnixDatagram {
            io: Registered::new(socket, "runtime::net::UnixDatagram::bind")?,
        })
    }

    /// Sends `buf` as one datagram to the socket at `target`. Cancel-safe.
    pub async fn send_to(&self, buf: &[u8], target: impl AsRef<Path>) -> io::Result<usize> {
        let target = target.as_ref();
        self.io
            .io(Direction::Write, |socket| socket.send_to(buf, target))
            .await
    }

    /// Waits for one datagram and gives its length and sender. Cancel-safe.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .io(Direction::Read, |socket| socket.recv_from(buf))
            .await
    }

    /// The path the socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().local_addr()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}

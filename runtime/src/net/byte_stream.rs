//! A connected byte stream, whatever carries it: what `TcpStream` and
//! `UnixStream` share. Reads and writes go through the socket's own
//! poll-style place in the wait list (`registered.rs`), and a short read or
//! write clears readiness at once, which saves the call that would only say
//! `WouldBlock`: one echoed message costs one `read` and one `write`.

use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::task::{ready, Context, Poll};

use mio::event::Source;
use reactor::Direction;

use super::registered::Registered;

impl<S: Source + AsRawFd> Registered<S>
where
    for<'a> &'a S: Read,
{
    // ANCHOR: poll_read
    /// Reads into `buf`; `Ok(0)` at end of stream, or at once for an empty
    /// `buf` (a call that can read nothing has nothing to wait for).
    pub(crate) fn poll_read_bytes(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let n = ready!(self.poll_io_polled(Direction::Read, cx, |mut s| s.read(buf)))?;
        if n > 0 && n < buf.len() {
            // A short read emptied the kernel's buffer: skip the read that
            // would only say WouldBlock.
            self.clear_ready(Direction::Read);
        }
        Poll::Ready(Ok(n))
    }
    // ANCHOR_END: poll_read

    pub(crate) async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read_bytes(cx, buf)).await
    }

    pub(crate) async fn read_exact(&self, mut buf: &mut [u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.read(buf).await? {
                0 => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the peer closed the connection before all the bytes arrived",
                    ))
                }
                n => buf = &mut buf[n..],
            }
        }
        Ok(())
    }
}

impl<S: Source + AsRawFd> Registered<S>
where
    for<'a> &'a S: Write,
{
    /// Writes some of `buf`; `Ok(0)` at once for an empty `buf`.
    pub(crate) fn poll_write_bytes(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let n = ready!(self.poll_io_polled(Direction::Write, cx, |mut s| s.write(buf)))?;
        if n > 0 && n < buf.len() {
            self.clear_ready(Direction::Write); // the send buffer is full
        }
        Poll::Ready(Ok(n))
    }

    pub(crate) async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_write_bytes(cx, buf)).await
    }

    pub(crate) async fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.write(buf).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }
}

// ANCHOR: halves
/// What a byte stream type (`TcpStream`, `UnixStream`) gets besides its own
/// methods, written once for both: `futures_io::AsyncRead` and `AsyncWrite`
/// for the stream and for `&stream`, and tokio's split halves.
///
/// Reading and writing use different places in the wait lists (one per
/// direction, see `registered.rs`), so one task can read while another
/// writes, through `&stream` or through the halves, with no lock between
/// them. Two readers at once through `&stream` share the one read place, as
/// in tokio: one reader and one writer at a time.
macro_rules! stream_traits_and_halves {
    ($stream:ident) => {
        impl futures_io::AsyncRead for &$stream {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_read_bytes(cx, buf)
            }
        }

        impl futures_io::AsyncWrite for &$stream {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_write_bytes(cx, buf)
            }

            /// Nothing to flush: bytes go to the kernel at each write.
            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            /// Shuts down the writing side: the peer reads end of stream.
            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(self.shutdown(std::net::Shutdown::Write))
            }
        }

        /// The stream itself and its halves all give the `&stream` they
        /// read and write through as `AsRef` (see `read_through`).
        impl AsRef<$stream> for $stream {
            fn as_ref(&self) -> &$stream {
                self
            }
        }

        $crate::net::byte_stream::read_through!($stream, $stream, ReadHalf<'_>, OwnedReadHalf);
        $crate::net::byte_stream::write_through!($stream, $stream, WriteHalf<'_>, OwnedWriteHalf);

        impl $stream {
            /// Borrowed halves, to read and write at once from two futures
            /// of one task (`gather!` a copy each way, say). In code where
            /// `futures::io::AsyncReadExt` is in scope, call it in full,
            #[doc = concat!("`", stringify!($stream), "::split(&mut stream)`:")]
            /// that trait's own by-value `split` would be chosen otherwise.
            pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
                (ReadHalf(self), WriteHalf(self))
            }

            /// Owned halves, to read and write from two tasks: tokio's
            /// `into_split`. Dropping the write half shuts the writing side
            /// down, so the peer reads end of stream.
            pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
                let stream = std::sync::Arc::new(self);
                (OwnedReadHalf(stream.clone()), OwnedWriteHalf(stream))
            }
        }

        #[doc = concat!("The reading half of a borrowed [`", stringify!($stream), "`].")]
        #[derive(Debug)]
        pub struct ReadHalf<'a>(&'a $stream);

        #[doc = concat!("The writing half of a borrowed [`", stringify!($stream), "`].")]
        #[derive(Debug)]
        pub struct WriteHalf<'a>(&'a $stream);

        #[doc = concat!("The reading half of a [`", stringify!($stream), "`], owned.")]
        #[derive(Debug)]
        pub struct OwnedReadHalf(std::sync::Arc<$stream>);

        #[doc = concat!("The writing half of a [`", stringify!($stream), "`], owned;")]
        /// dropping it shuts the writing side down.
        #[derive(Debug)]
        pub struct OwnedWriteHalf(std::sync::Arc<$stream>);

        impl Drop for OwnedWriteHalf {
            fn drop(&mut self) {
                // The peer learns that nothing more is coming; an error
                // (the connection already gone) leaves nothing to do.
                let _ = self.0.shutdown(std::net::Shutdown::Write);
            }
        }

        impl AsRef<$stream> for ReadHalf<'_> {
            fn as_ref(&self) -> &$stream {
                self.0
            }
        }

        impl AsRef<$stream> for WriteHalf<'_> {
            fn as_ref(&self) -> &$stream {
                self.0
            }
        }

        impl AsRef<$stream> for OwnedReadHalf {
            fn as_ref(&self) -> &$stream {
                &self.0
            }
        }

        impl AsRef<$stream> for OwnedWriteHalf {
            fn as_ref(&self) -> &$stream {
                &self.0
            }
        }
    };
}
pub(crate) use stream_traits_and_halves;

/// `AsyncRead` for each type after the first, by reading through the
/// `&$stream` it holds (its `AsRef`): the stream and its read halves all
/// use the one implementation, `AsyncRead for &$stream`.
macro_rules! read_through {
    ($stream:ident, $($holder:ty),+) => {$(
        impl futures_io::AsyncRead for $holder {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let mut stream: &$stream = AsRef::<$stream>::as_ref(&*self);
                std::pin::Pin::new(&mut stream).poll_read(cx, buf)
            }
        }
    )+};
}
pub(crate) use read_through;

/// `AsyncWrite` the same way, through `AsyncWrite for &$stream`.
macro_rules! write_through {
    ($stream:ident, $($holder:ty),+) => {$(
        impl futures_io::AsyncWrite for $holder {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let mut stream: &$stream = AsRef::<$stream>::as_ref(&*self);
                std::pin::Pin::new(&mut stream).poll_write(cx, buf)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let mut stream: &$stream = AsRef::<$stream>::as_ref(&*self);
                std::pin::Pin::new(&mut stream).poll_flush(cx)
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let mut stream: &$stream = AsRef::<$stream>::as_ref(&*self);
                std::pin::Pin::new(&mut stream).poll_close(cx)
            }
        }
    )+};
}
pub(crate) use write_through;
// ANCHOR_END: halves

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

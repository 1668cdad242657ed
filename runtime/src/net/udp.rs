//! UDP: datagrams, asyncio's `loop.create_datagram_endpoint`.
//!
//! A datagram arrives whole or not at all, so there is no short-read trick
//! here (see `tcp.rs`): readiness is cleared only on `WouldBlock`.

use std::fmt;
use std::io;
use std::net::SocketAddr;

use reactor::Direction;

use super::registered::Registered;
use super::{first_that_works, resolve, with_context, ToSocketAddrs};

/// A UDP socket.
///
/// Its methods take `&self`, so one task can send while another receives,
/// and several tasks can receive (or send) on one socket at once: each
/// waits in its own place, and each datagram goes to one of them.
/// `recv_from` is cancel-safe: a future dropped before it finishes took no
/// datagram.
///
/// ```
/// use runtime::net::UdpSocket;
/// runtime::block_on(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     a.send_to(b"ping", b.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr().unwrap()));
/// });
/// ```
pub struct UdpSocket {
    io: Registered<mio::net::UdpSocket>,
}

impl UdpSocket {
    /// Opens a UDP socket on `addr` (port 0: any free port).
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        first_that_works(addr, |addr| async move {
            let socket = mio::net::UdpSocket::bind(addr).map_err(|e| {
                with_context(
                    e,
                    format!("could not bind {addr}"),
                    "is another program using that port? Pick another, or 0 for any free one",
                )
            })?;
            Ok(UdpSocket {
                io: Registered::new(socket, "runtime::net::UdpSocket::bind")?,
            })
        })
        .await
    }

    /// Sends `buf` as one datagram to `target` (its first address, if a
    /// name resolves to several). Returns the bytes sent. Cancel-safe: a
    /// datagram goes whole or not at all, and a dropped future sent nothing.
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let target = resolve(target).await?.first().copied().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "send_to was given no address")
        })?;
        self.io
            .io(Direction::Write, |socket| socket.send_to(buf, target))
            .await
    }

    /// Waits for one datagram, copies it into `buf` and returns its length
    /// and sender. A datagram longer than `buf` is cut short.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .io(Direction::Read, |socket| socket.recv_from(buf))
            .await
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().local_addr()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}

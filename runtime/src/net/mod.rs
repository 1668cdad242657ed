//! Networking: TCP, UDP and Unix domain sockets whose operations you
//! `.await`, like asyncio's `open_connection`, `start_server`, datagram
//! endpoints and `open_unix_connection`.
//!
//! Every socket here is a non-blocking mio socket registered with the loop's
//! reactor (`registered.rs`). An operation is tried at once; if the OS says
//! `WouldBlock`, the task waits until the reactor reports the socket ready,
//! and tries again. So one loop thread can hold thousands of connections:
//! a connection that has nothing to say costs a slab entry and a few hundred
//! bytes of future, not a thread.
//!
//! Addresses are anything that is [`ToSocketAddrs`]. A literal address
//! (`"127.0.0.1:8080"`, a `SocketAddr`) is parsed on the spot; a host name
//! (`"localhost:8080"`) is looked up on the blocking pool, as asyncio runs
//! `getaddrinfo` in its executor, because the OS resolver blocks.
//!
//! ```
//! use runtime::net::{TcpListener, TcpStream};
//! runtime::block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     let server = runtime::spawn(async move {
//!         let (mut conn, _) = listener.accept().await.unwrap();
//!         let mut buf = [0; 5];
//!         conn.read_exact(&mut buf).await.unwrap();
//!         conn.write_all(&buf).await.unwrap(); // echo it back
//!     });
//!     let mut client = TcpStream::connect(addr).await.unwrap();
//!     client.write_all(b"hello").await.unwrap();
//!     let mut reply = [0; 5];
//!     client.read_exact(&mut reply).await.unwrap();
//!     assert_eq!(&reply, b"hello");
//!     server.await.unwrap();
//! });
//! ```

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

mod byte_stream;
mod registered;
pub(crate) use registered::Registered;
pub mod tcp;
mod udp;
#[cfg(unix)]
pub mod unix;

pub use tcp::{Incoming, TcpListener, TcpStream};
pub use udp::UdpSocket;
#[cfg(unix)]
pub use unix::{UnixDatagram, UnixListener, UnixStream};

/// Anything that names one or more socket addresses: a `SocketAddr`, an
/// `(IpAddr, u16)`, a `"host:port"` string (`&str` or `String`), or a
/// `(&str, u16)` pair. Like `std::net::ToSocketAddrs`, except that a host
/// name is resolved on the blocking pool instead of blocking the loop.
///
/// The trait is sealed: its one method is looplet's business.
pub trait ToSocketAddrs: sealed::Sealed {}

mod sealed {
    use super::*;

    /// What an address turned into without blocking.
    #[derive(Debug)]
    pub enum Addrs {
        /// Parsed on the spot (or refused with a message).
        Ready(io::Result<Vec<SocketAddr>>),
        /// A `"host:port"` that needs the OS resolver.
        Lookup(String),
    }

    pub trait Sealed {
        fn to_addrs(&self) -> Addrs;
    }
}
use sealed::{Addrs, Sealed};

/// Turns `addr` into socket addresses, looking host names up on the
/// blocking pool.
pub(crate) async fn resolve(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    let host_port = match addr.to_addrs() {
        Addrs::Ready(addrs) => return addrs,
        Addrs::Lookup(host_port) => host_port,
    };
    // The answer comes back through a `Send` channel (not a `JoinHandle`),
    // so that `connect`'s future is `Send`, as tokio's is.
    let lookup = crate::executor::on_blocking_pool("runtime::net (a name lookup)", move || {
        let found: Vec<SocketAddr> = std::net::ToSocketAddrs::to_socket_addrs(&host_port)
            .map_err(|e| io::Error::new(e.kind(), format!("could not resolve {host_port:?}: {e}")))?
            .collect();
        if found.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{host_port:?} resolved to no address"),
            ));
        }
        Ok(found)
    });
    match lookup.await {
        Ok(Ok(result)) => result,
        Ok(Err(_panic)) => Err(io::Error::other("the name lookup panicked")),
        Err(_) => Err(io::Error::other(
            "the name lookup did not finish: the loop's blocking pool ended",
        )),
    }
}

/// Tries `attempt` on each address in turn and returns the first success,
/// or the last error: what `connect` and `bind` do with a name that
/// resolves to several addresses (IPv6 and IPv4, say).
pub(crate) async fn first_that_works<T, F>(
    addr: impl ToSocketAddrs,
    mut attempt: impl FnMut(SocketAddr) -> F,
) -> io::Result<T>
where
    F: std::future::Future<Output = io::Result<T>>,
{
    let mut last_error = None;
    for addr in resolve(addr).await? {
        match attempt(addr).await {
            Ok(value) => return Ok(value),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error
        .unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to try")))
}

fn ready(addr: impl Into<SocketAddr>) -> Addrs {
    Addrs::Ready(Ok(vec![addr.into()]))
}

macro_rules! literal_addrs {
    ($($ty:ty),*) => {$(
        impl ToSocketAddrs for $ty {}
        impl Sealed for $ty {
            fn to_addrs(&self) -> Addrs {
                ready(*self)
            }
        }
    )*};
}
literal_addrs!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16)
);

impl ToSocketAddrs for str {}
impl Sealed for str {
    fn to_addrs(&self) -> Addrs {
        if let Ok(addr) = self.parse::<SocketAddr>() {
            return ready(addr);
        }
        // Not a literal: it must be "host:port", with a port that parses.
        match self.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
                Addrs::Lookup(self.to_string())
            }
            _ => Addrs::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{self:?} is not an address: write \"host:port\", \
                     such as \"127.0.0.1:8080\" or \"localhost:8080\""
                ),
            ))),
        }
    }
}

impl ToSocketAddrs for String {}
impl Sealed for String {
    fn to_addrs(&self) -> Addrs {
        self.as_str().to_addrs()
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl Sealed for (&str, u16) {
    fn to_addrs(&self) -> Addrs {
        let (host, port) = *self;
        match host.parse::<IpAddr>() {
            Ok(ip) => ready((ip, port)),
            Err(_) => Addrs::Lookup(format!("{host}:{port}")),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl Sealed for (String, u16) {
    fn to_addrs(&self) -> Addrs {
        (self.0.as_str(), self.1).to_addrs()
    }
}

impl ToSocketAddrs for [SocketAddr] {}
impl Sealed for [SocketAddr] {
    fn to_addrs(&self) -> Addrs {
        Addrs::Ready(Ok(self.to_vec()))
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrs + ?Sized> Sealed for &T {
    fn to_addrs(&self) -> Addrs {
        (**self).to_addrs()
    }
}

/// An error that says where it happened and what to try, keeping the OS's
/// error (and so its `ErrorKind`) as its source.
pub(crate) fn with_context(error: io::Error, what: String, hint: &str) -> io::Error {
    let kind = error.kind();
    let hint = match kind {
        io::ErrorKind::AddrInUse | io::ErrorKind::ConnectionRefused => hint,
        _ => "",
    };
    io::Error::new(
        kind,
        ErrorContext {
            what,
            hint: hint.to_string(),
            source: error,
        },
    )
}

#[derive(Debug)]
struct ErrorContext {
    what: String,
    hint: String,
    source: io::Error,
}

impl fmt::Display for ErrorContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.source)?;
        if !self.hint.is_empty() {
            write!(f, " ({})", self.hint)?;
        }
        Ok(())
    }
}

impl std::error::Error for ErrorContext {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

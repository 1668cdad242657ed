//! Helpers shared by the example programs in this folder. The examples
//! themselves are the files next to this one; run them with
//! `cargo run --example NAME` from the repository root.
//!
//! What lives here is what more than one example needs: the accept loop
//! every server runs, the echo handler, a tiny HTTP/1.1 server and client
//! (`http.rs`), and a way to ask the OS for more file descriptors.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;

use runtime::net::{TcpListener, TcpStream};

pub mod http;
#[cfg(feature = "hyper")]
pub mod hyper_app;

// ANCHOR: serve
/// Accepts connections forever, running `handle` on each as its own task:
/// the body of asyncio's `start_server`.
///
/// An accept can fail without the listener being broken: most often the
/// process is out of file descriptors ("too many open files"). The right
/// reaction is to say so, wait a little so finished connections can free
/// their descriptors, and accept again. Retrying at once would spin: the
/// waiting connection is still there, so the listener stays "ready".
pub async fn serve<F, Fut>(listener: TcpListener, handle: F)
where
    F: Fn(TcpStream) -> Fut,
    Fut: Future<Output = io::Result<()>> + 'static,
{
    loop {
        match listener.accept().await {
            Ok((conn, _peer)) => {
                // Detached: the server does not wait for its connections.
                drop(runtime::spawn(ReportError {
                    connection: handle(conn),
                }));
            }
            Err(e) => {
                eprintln!("accept failed: {e}; retrying in 100 ms");
                runtime::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}
// ANCHOR_END: serve

pin_project! {
    /// Runs a connection's future and prints its error, if it ends in one.
    ///
    /// A named future rather than `async move { if let Err(e) = f.await ..}`:
    /// today's compiler keeps both the captured `f` and the awaited one in
    /// such a block's state, so every connection would cost its handler's
    /// size twice (8 KiB instead of 4 KiB with a 4 KiB buffer). This one
    /// polls `connection` in place.
    struct ReportError<F> {
        #[pin]
        connection: F,
    }
}

impl<F: Future<Output = io::Result<()>>> Future for ReportError<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if let Err(e) = ready!(self.project().connection.poll(cx)) {
            eprintln!("connection ended with an error: {e}");
        }
        Poll::Ready(())
    }
}

// ANCHOR: echo
/// Sends every byte back until the client closes its side.
pub async fn echo(mut conn: TcpStream) -> io::Result<()> {
    let mut buf = [0; 4096];
    loop {
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            return Ok(()); // end of stream: the client is done
        }
        conn.write_all(&buf[..n]).await?;
    }
}
// ANCHOR_END: echo

/// Raises this process's soft limit on open files (`RLIMIT_NOFILE`) to the
/// hard limit, so it can hold `wanted` sockets, and returns the new limit.
/// Fails with a message that says what to do when the hard limit is lower.
pub fn raise_fd_limit(wanted: u64) -> io::Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable rlimit for the call to fill in.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: `limit` is a valid rlimit that lives across the call.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    if limit.rlim_cur < wanted {
        return Err(io::Error::other(format!(
            "this program needs about {wanted} open files, but the hard limit is {}. \
             Raise it (as root: `ulimit -Hn {wanted}`, or `LimitNOFILE=` in a systemd \
             unit, or /etc/security/limits.conf) or ask for fewer connections.",
            limit.rlim_cur
        )));
    }
    Ok(limit.rlim_cur)
}

/// This process's resident memory in bytes, read from `/proc/self/status`
/// (Linux only; `None` elsewhere).
pub fn resident_memory() -> Option<u64> {
    resident_memory_of(std::process::id())
}

/// Process `pid`'s resident memory in bytes, from `/proc` (Linux only).
pub fn resident_memory_of(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

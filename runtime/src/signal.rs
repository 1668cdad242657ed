//! Unix signals: asyncio's `loop.add_signal_handler`, as a stream.
//!
//! A signal handler runs in the middle of whatever the thread was doing,
//! and may do almost nothing: no lock, no allocation, no waker. So the
//! handler (installed once per signal, through signal-hook-registry, which
//! chains any handler that was there before) does two things that are safe
//! there: it adds one to the signal's delivery counter, and it writes a
//! byte to the pipe of every stream that listens for the signal. A pipe's
//! read end is registered with the loop's reactor like a socket, so the
//! byte wakes the stream's task: the self-pipe trick.
//!
//! The byte only wakes; the counter says how many deliveries happened, and
//! each stream yields one item per delivery it has not seen yet. (Two
//! deliveries while one is still pending may be merged by the kernel: then
//! there is one delivery to count.)
//!
//! Pipes are never closed, only reused. A handler on another thread may
//! have read a stream's write descriptor just before the stream was
//! dropped; if the pipe were closed, it could write into whatever file took
//! the number next. Kept in a free list, the worst it can do is wake a
//! later stream for nothing, which then finds no new delivery.

use std::io;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::task::{Context, Poll};

use reactor::Direction;

use crate::net::Registered;

/// Signal numbers are small; 65 covers Linux's real-time ones too.
const SIGNALS: usize = 65;
/// At most this many `Signals` streams at once, in the whole process.
const STREAMS: usize = 64;

/// What the handlers see: per signal, deliveries so far; per stream slot,
/// the write end of its pipe (-1: free) and the signal it wants (0: none).
struct Shared {
    delivered: [AtomicU64; SIGNALS],
    write_fd: [AtomicI32; STREAMS],
    wants: [AtomicI32; STREAMS],
}

static SHARED: Shared = Shared {
    delivered: [const { AtomicU64::new(0) }; SIGNALS],
    write_fd: [const { AtomicI32::new(-1) }; STREAMS],
    wants: [const { AtomicI32::new(0) }; STREAMS],
};

/// What only ordinary code touches: which signals have a handler, which
/// slots are taken, and the pipes kept for reuse.
struct Book {
    installed: [bool; SIGNALS],
    taken: [bool; STREAMS],
    spare: Vec<(mio::unix::pipe::Sender, mio::unix::pipe::Receiver)>,
}

fn book() -> &'static Mutex<Book> {
    static BOOK: OnceLock<Mutex<Book>> = OnceLock::new();
    BOOK.get_or_init(|| {
        Mutex::new(Book {
            installed: [false; SIGNALS],
            taken: [false; STREAMS],
            spare: Vec::new(),
        })
    })
}

// ANCHOR: handler
/// Runs inside the signal handler: only atomics and `write(2)`, both safe
/// there.
fn on_signal(signum: usize) {
    // Release: a stream that sees the byte (or the new count) sees this.
    SHARED.delivered[signum].fetch_add(1, Ordering::Release);
    for slot in 0..STREAMS {
        if SHARED.wants[slot].load(Ordering::Acquire) == signum as i32 {
            let fd = SHARED.write_fd[slot].load(Ordering::Acquire);
            if fd >= 0 {
                // A full pipe (EAGAIN) is fine: a wake is already pending.
                // SAFETY: `fd` is one of our pipes' write ends, never closed
                // (module docs), so valid; the buffer is a static byte.
                let _ = unsafe { libc::write(fd, b"!".as_ptr().cast(), 1) };
            }
        }
    }
}
// ANCHOR_END: handler

/// A stream of deliveries of one Unix signal: one `()` per delivery.
///
/// ```no_run
/// use runtime::stream::StreamExt;
/// runtime::block_on(async {
///     let mut hangups = runtime::signal::signal(libc::SIGHUP).unwrap();
///     while hangups.next().await.is_some() {
///         println!("SIGHUP: reloading the configuration");
///     }
/// });
/// ```
pub struct Signals {
    signum: i32,
    slot: usize,
    /// Deliveries already handed out (or that happened before we began).
    seen: u64,
    reader: Option<Registered<mio::unix::pipe::Receiver>>,
    writer: Option<mio::unix::pipe::Sender>,
}

/// Starts listening for signal `signum` (`libc::SIGTERM`, say): installs
/// the process-wide handler at this call, the first time.
///
/// `SIGKILL` and `SIGSTOP` cannot be caught, and `SIGILL`, `SIGFPE` and
/// `SIGSEGV` must not be: they are errors, as are numbers that are no
/// signal.
///
/// # Panics
///
/// Outside a running loop, like `runtime::spawn`.
#[track_caller]
pub fn signal(signum: i32) -> io::Result<Signals> {
    if signum <= 0
        || signum as usize >= SIGNALS
        || signal_hook_registry::FORBIDDEN.contains(&signum)
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "signal {signum} cannot be listened for: SIGKILL and SIGSTOP cannot be caught, \
                 SIGILL, SIGFPE and SIGSEGV must not be, and the number must be a signal"
            ),
        ));
    }
    let mut book = book().lock().unwrap_or_else(|p| p.into_inner());
    if !book.installed[signum as usize] {
        let index = signum as usize;
        // SAFETY: the action only touches atomics and calls write(2), which
        // are async-signal-safe (see `on_signal`).
        unsafe { signal_hook_registry::register(signum, move || on_signal(index)) }?;
        book.installed[index] = true;
    }
    let slot = book.taken.iter().position(|taken| !taken).ok_or_else(|| {
        io::Error::other(format!(
            "too many signal streams at once (at most {STREAMS}): drop some first"
        ))
    })?;
    let (writer, reader) = match book.spare.pop() {
        Some(pipe) => pipe,
        None => {
            let (writer, reader) = mio::unix::pipe::new()?;
            (writer, reader)
        }
    };
    book.taken[slot] = true;
    drop(book);
    // Drain bytes a former owner of this pipe may have left.
    let mut junk = [0u8; 64];
    while matches!(std::io::Read::read(&mut &reader, &mut junk), Ok(n) if n > 0) {}
    let seen = SHARED.delivered[signum as usize].load(Ordering::Acquire);
    SHARED.write_fd[slot].store(writer.as_raw_fd(), Ordering::Release);
    SHARED.wants[slot].store(signum, Ordering::Release);
    Ok(Signals {
        signum,
        slot,
        seen,
        reader: Some(Registered::new(reader, "runtime::signal::signal")?),
        writer: Some(writer),
    })
}

// ANCHOR: poll_next
impl futures_core::Stream for Signals {
    type Item = ();

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        let this = self.get_mut();
        let delivered = &SHARED.delivered[this.signum as usize];
        let reader = this.reader.as_ref().expect("a live stream has its pipe");
        // Budgeted: a stream with many deliveries counted is ready again
        // and again without the pipe, and must not starve the loop.
        crate::coop::budgeted(cx, |cx| loop {
            // Acquire: pairs with the handler's Release increment.
            if delivered.load(Ordering::Acquire) > this.seen {
                this.seen += 1;
                return Poll::Ready(Some(()));
            }
            // Nothing new: empty the pipe, and wait for the next byte. The
            // count is looked at again after the pipe is empty, so a
            // delivery in between is not missed.
            let mut buf = [0u8; 64];
            match reader.poll_io_polled(Direction::Read, cx, |mut pipe| {
                std::io::Read::read(&mut pipe, &mut buf)
            }) {
                Poll::Ready(Ok(_)) => continue, // drained some; look again
                Poll::Ready(Err(e)) => {
                    let _ = e; // a broken pipe cannot happen: we hold both ends
                    return Poll::Ready(None);
                }
                Poll::Pending => {
                    if delivered.load(Ordering::Acquire) > this.seen {
                        continue;
                    }
                    return Poll::Pending;
                }
            }
        })
    }
}
// ANCHOR_END: poll_next

impl Drop for Signals {
    fn drop(&mut self) {
        SHARED.wants[self.slot].store(0, Ordering::Release);
        SHARED.write_fd[self.slot].store(-1, Ordering::Release);
        let reader = self.reader.take().map(Registered::into_inner);
        let writer = self.writer.take();
        let mut book = book().lock().unwrap_or_else(|p| p.into_inner());
        book.taken[self.slot] = false;
        if let (Some(writer), Some(reader)) = (writer, reader) {
            book.spare.push((writer, reader)); // kept open, for reuse
        }
    }
}

impl std::fmt::Debug for Signals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signals")
            .field("signum", &self.signum)
            .finish()
    }
}

/// Waits for Ctrl-C (`SIGINT`): tokio's and asyncio's usual shutdown
/// signal. The handler is installed at the first poll, so a `ctrl_c()`
/// that is never awaited changes nothing.
pub async fn ctrl_c() -> io::Result<()> {
    use crate::stream::StreamExt;
    let mut interrupts = signal(libc::SIGINT)?;
    interrupts.next().await;
    Ok(())
}

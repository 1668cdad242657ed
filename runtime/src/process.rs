//! Child processes: asyncio's `create_subprocess_exec`, on the loop's own
//! reactor, with no thread per child.
//!
//! - The pipes to a child (stdin, stdout, stderr) are made non-blocking and
//!   registered with the reactor like sockets: `ChildStdout` and
//!   `ChildStderr` are `AsyncRead`, `ChildStdin` is `AsyncWrite`.
//! - The exit is a readiness event too. On Linux a *pidfd* (`pidfd_open`,
//!   5.3 and later) is a descriptor that turns readable when the process
//!   exits; registered with the reactor, it wakes `wait`, which then reaps
//!   the child with `try_wait`. Where there is no pidfd (another OS, or an
//!   old kernel), `wait` waits on the blocking pool instead.
//! - A `Child` dropped before it was waited for keeps running, as tokio's
//!   does, and is reaped when it exits: its drop hands it to a small task
//!   that waits for it, so no zombie is left behind.

use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::pin::Pin;
use std::process::{ExitStatus, Output, Stdio};
use std::task::{ready, Context, Poll};

use mio::event::Source;
use mio::{Interest, Registry, Token};
use reactor::Direction;

use crate::net::Registered;

/// A process to start: `std::process::Command`'s builder, with `spawn`,
/// `output` and `status` that do not block the loop.
///
/// ```
/// use runtime::process::Command;
/// runtime::block_on(async {
///     let out = Command::new("echo").arg("hello").output().await.unwrap();
///     assert!(out.status.success());
///     assert_eq!(out.stdout, b"hello\n");
/// });
/// ```
pub struct Command {
    inner: std::process::Command,
}

impl Command {
    /// A command to run `program`, found on `PATH` if it has no slash.
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            inner: std::process::Command::new(program),
        }
    }

    /// Adds one argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.inner.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.inner.args(args);
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.inner.env(key, value);
        self
    }

    /// Sets the child's working directory.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.inner.current_dir(dir);
        self
    }

    /// The child's stdin (`Stdio::piped()` to write to it).
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.inner.stdin(cfg);
        self
    }

    /// The child's stdout (`Stdio::piped()` to read it).
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.inner.stdout(cfg);
        self
    }

    /// The child's stderr (`Stdio::piped()` to read it).
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.inner.stderr(cfg);
        self
    }

    /// Starts the process. Its pipes (those set to `Stdio::piped()`) are
    /// in `Child::stdin`, `stdout` and `stderr`.
    ///
    /// # Panics
    ///
    /// Outside a running loop, like `runtime::spawn`: the pipes and the
    /// exit are watched by the loop's reactor.
    #[track_caller]
    pub fn spawn(&mut self) -> io::Result<Child> {
        let mut child = self.inner.spawn().map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("could not start {:?}: {e}", self.inner.get_program()),
            )
        })?;
        let stdin = child.stdin.take().map(ChildStdin::new).transpose()?;
        let stdout = child.stdout.take().map(ChildStdout::new).transpose()?;
        let stderr = child.stderr.take().map(ChildStderr::new).transpose()?;
        let exit = PidFd::open(child.id())
            .map(|fd| Registered::new(fd, "runtime::process::Command::spawn"))
            .transpose()?;
        Ok(Child {
            inner: Some(child),
            exit,
            status: None,
            stdin,
            stdout,
            stderr,
        })
    }

    // ANCHOR: output
    /// Runs the process to the end, collecting its stdout and stderr (which
    /// are piped unless set otherwise): asyncio's `proc.communicate()`.
    pub async fn output(&mut self) -> io::Result<Output> {
        self.inner.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = self.spawn()?;
        let stdout = child.stdout.take().map(|s| s.0);
        let stderr = child.stderr.take().map(|s| s.0);
        let (out, err) = crate::gather!(read_to_end(stdout), read_to_end(stderr)).await;
        let status = child.wait().await?;
        Ok(Output {
            status,
            stdout: out?,
            stderr: err?,
        })
    }
    // ANCHOR_END: output

    /// Runs the process to the end and gives its exit status.
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn()?.wait().await
    }
}

/// Everything a child writes to `pipe`, until it closes it.
async fn read_to_end(pipe: Option<ChildOut>) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if let Some(pipe) = pipe {
        let mut buf = vec![0; 16 * 1024];
        loop {
            match pipe.io.read(&mut buf).await? {
                0 => break,
                n => bytes.extend_from_slice(&buf[..n]),
            }
        }
    }
    Ok(bytes)
}

/// A running child process.
pub struct Child {
    /// `None` once reaped (or handed to the reaper by `Drop`).
    inner: Option<std::process::Child>,
    /// The child's pidfd, registered with the reactor; `None` where there
    /// is no pidfd, and `wait` falls back to the blocking pool.
    exit: Option<Registered<PidFd>>,
    status: Option<ExitStatus>,
    /// The child's stdin, if piped. Dropping it closes the pipe.
    pub stdin: Option<ChildStdin>,
    /// The child's stdout, if piped.
    pub stdout: Option<ChildStdout>,
    /// The child's stderr, if piped.
    pub stderr: Option<ChildStderr>,
}

impl Child {
    /// The OS's process id.
    pub fn id(&self) -> u32 {
        self.inner.as_ref().map_or(0, std::process::Child::id)
    }

    // ANCHOR: wait
    /// Waits for the child to exit and gives its status; the child is
    /// reaped (no zombie is left). Cancel-safe: call it again later.
    /// Closes the child's stdin first, as asyncio's `wait` does not, but as
    /// a child reading its stdin to the end needs in order to exit.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        // Once the child has exited, `wait` is ready every time: it spends
        // from the task's budget like any other leaf, so a loop of it yields.
        std::future::poll_fn(|cx| crate::coop::budgeted(cx, |_| Poll::Ready(()))).await;
        drop(self.stdin.take());
        if let Some(status) = self.status {
            return Ok(status);
        }
        let status = match &self.exit {
            Some(exit) => {
                let child = self.inner.as_mut().expect("a child not yet reaped");
                std::future::poll_fn(|cx| loop {
                    if let Some(status) = child.try_wait()? {
                        return Poll::Ready(Ok::<_, io::Error>(status));
                    }
                    // Not exited: wait for the pidfd to turn readable.
                    ready!(exit.poll_ready_polled(Direction::Read, cx))?;
                    if child.try_wait()?.is_none() {
                        exit.clear_ready(Direction::Read);
                    }
                })
                .await?
            }
            None => {
                // No pidfd: a pool thread blocks until the child has exited
                // but leaves it unreaped (WNOWAIT), and this task reaps it.
                // The child never leaves `self`, so a `wait` dropped midway
                // loses nothing, `kill` still works, and the pid cannot be
                // reused while the pool thread holds it.
                let child = self.inner.as_mut().expect("a child not yet reaped");
                loop {
                    if let Some(status) = child.try_wait()? {
                        break status;
                    }
                    let pid = child.id();
                    crate::spawn_blocking(move || wait_for_exit_unreaped(pid))
                        .await
                        .map_err(|e| {
                            io::Error::other(format!("waiting for the child failed: {e}"))
                        })??;
                }
            }
        };
        self.status = Some(status);
        Ok(status)
    }
    // ANCHOR_END: wait

    /// Kills the child (SIGKILL). Waiting for it afterwards gives a status
    /// whose `code()` is `None`.
    pub fn kill(&mut self) -> io::Result<()> {
        match &mut self.inner {
            Some(child) if self.status.is_none() => child.kill(),
            _ => Ok(()),
        }
    }
}

/// Blocks until process `pid` (our child) has exited, without reaping it.
fn wait_for_exit_unreaped(pid: u32) -> io::Result<()> {
    loop {
        // SAFETY: an all-zero siginfo_t is a valid value for waitid to
        // overwrite (it is plain old data).
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is a live, writable siginfo_t for the whole call.
        let rc = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if rc == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

// ANCHOR: drop
impl Drop for Child {
    fn drop(&mut self) {
        if self.status.is_some() {
            return;
        }
        let Some(mut child) = self.inner.take() else {
            return;
        };
        if let Ok(Some(_)) = child.try_wait() {
            return; // exited already: reaped just now
        }
        // Still running: it goes on, and a task reaps it when it exits.
        let exit = self.exit.take();
        let reaper = Child {
            inner: Some(child),
            exit,
            status: None,
            stdin: None,
            stdout: None,
            stderr: None,
        };
        // Outside a loop (or once it has ended) there is no task to reap
        // it, and the zombie stays until this process ends.
        if crate::executor::in_loop() {
            drop(crate::spawn(async move {
                let mut reaper = reaper;
                let _ = reaper.wait().await;
            }));
        }
    }
}
// ANCHOR_END: drop

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("id", &self.id())
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// A pipe from a child, registered with the reactor.
struct ChildOut {
    io: Registered<mio::unix::pipe::Receiver>,
}

impl ChildOut {
    fn new(pipe: mio::unix::pipe::Receiver) -> io::Result<ChildOut> {
        pipe.set_nonblocking(true)?;
        Ok(ChildOut {
            io: Registered::new(pipe, "runtime::process::Command::spawn")?,
        })
    }
}

/// The child's stdout: `futures_io::AsyncRead`.
pub struct ChildStdout(ChildOut);

/// The child's stderr: `futures_io::AsyncRead`.
pub struct ChildStderr(ChildOut);

/// The child's stdin: `futures_io::AsyncWrite`. Dropping it closes the
/// pipe, and the child reads end of file.
pub struct ChildStdin {
    io: Registered<mio::unix::pipe::Sender>,
}

impl ChildStdout {
    fn new(pipe: std::process::ChildStdout) -> io::Result<ChildStdout> {
        Ok(ChildStdout(ChildOut::new(pipe.into())?))
    }

    /// Reads what the child wrote; `Ok(0)` once it closed its stdout (or
    /// exited). Cancel-safe.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.io.read(buf).await
    }
}

impl ChildStderr {
    fn new(pipe: std::process::ChildStderr) -> io::Result<ChildStderr> {
        Ok(ChildStderr(ChildOut::new(pipe.into())?))
    }

    /// Reads what the child wrote; `Ok(0)` once it closed its stderr (or
    /// exited). Cancel-safe.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.io.read(buf).await
    }
}

impl ChildStdin {
    /// Writes all of `buf` to the child. Not cancel-safe (see
    /// `TcpStream::write_all`).
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.io.write_all(buf).await
    }

    fn new(pipe: std::process::ChildStdin) -> io::Result<ChildStdin> {
        let pipe: mio::unix::pipe::Sender = pipe.into();
        pipe.set_nonblocking(true)?;
        Ok(ChildStdin {
            io: Registered::new(pipe, "runtime::process::Command::spawn")?,
        })
    }
}

impl futures_io::AsyncRead for ChildStdout {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.0.io.poll_read_bytes(cx, buf)
    }
}

impl futures_io::AsyncRead for ChildStderr {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.0.io.poll_read_bytes(cx, buf)
    }
}

impl futures_io::AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_write_bytes(cx, buf)
    }

    /// Nothing to flush: bytes go to the kernel at each write.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Nothing to do here: dropping the `ChildStdin` closes the pipe.
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl fmt::Debug for ChildStdout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChildStdout")
    }
}

impl fmt::Debug for ChildStderr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChildStderr")
    }
}

impl fmt::Debug for ChildStdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChildStdin")
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

// ANCHOR: pidfd
/// A process's pidfd: readable once the process has exited.
struct PidFd(OwnedFd);

impl PidFd {
    /// `pidfd_open(pid)`, or `None` where the kernel has none (then `wait`
    /// uses the blocking pool).
    #[cfg(target_os = "linux")]
    fn open(pid: u32) -> Option<PidFd> {
        // SAFETY: pidfd_open takes a pid and flags and returns a new
        // descriptor or -1; it touches no memory of ours.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
        if fd < 0 {
            return None;
        }
        // SAFETY: the syscall returned a new descriptor that nothing else
        // owns; `OwnedFd` closes it once.
        Some(PidFd(unsafe { OwnedFd::from_raw_fd(fd as RawFd) }))
    }

    #[cfg(not(target_os = "linux"))]
    fn open(_pid: u32) -> Option<PidFd> {
        None
    }
}
// ANCHOR_END: pidfd

impl AsRawFd for PidFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

impl Source for PidFd {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        // A pidfd only ever turns readable.
        let _ = interests;
        mio::unix::SourceFd(&self.0.as_raw_fd()).register(registry, token, Interest::READABLE)
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        let _ = interests;
        mio::unix::SourceFd(&self.0.as_raw_fd()).reregister(registry, token, Interest::READABLE)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        mio::unix::SourceFd(&self.0.as_raw_fd()).deregister(registry)
    }
}

#[cfg(test)]
mod tests {
    //! The no-pidfd path, forced on Linux by dropping the child's pidfd.
    use super::*;
    use std::time::Duration;

    #[test]
    fn without_a_pidfd_a_dropped_wait_loses_nothing() {
        crate::block_on(async {
            let mut child = Command::new("sleep").arg("30").spawn().unwrap();
            child.exit = None;
            // A wait cut short by a timeout leaves the child in place...
            let cut = crate::time::timeout(Duration::from_millis(50), child.wait()).await;
            assert!(cut.is_err());
            assert_ne!(child.id(), 0);
            // ...so kill still reaches it, and a second wait gives its status.
            child.kill().unwrap();
            let status = child.wait().await.unwrap();
            assert_eq!(status.code(), None, "killed by a signal");
            assert_eq!(child.wait().await.unwrap(), status, "the status is kept");
        });
    }

    #[test]
    fn without_a_pidfd_wait_gives_the_exit_code() {
        crate::block_on(async {
            let mut child = Command::new("sh").args(["-c", "exit 7"]).spawn().unwrap();
            child.exit = None;
            assert_eq!(child.wait().await.unwrap().code(), Some(7));
        });
    }
}

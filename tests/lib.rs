//! Helpers for the integration tests in this folder. Every wait in a test
//! runs under a deadline, so a lost wakeup shows up as a failure, not a hang.

use std::sync::mpsc;
use std::time::Duration;

/// Runs `f` on a fresh thread and panics if it takes longer than `limit`.
/// Use it around anything that could hang if a wakeup were lost.
pub fn with_deadline<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(value) => {
            worker.join().expect("test thread");
            value
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("test did not finish within {limit:?}: a wakeup may have been lost")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the worker sends before it returns"),
        },
    }
}

/// Makes sure this process may open at least `wanted` file descriptors,
/// raising the soft `RLIMIT_NOFILE` toward the hard limit. Panics, saying
/// what to do, if the hard limit is too low.
pub fn raise_fd_limit(wanted: u64) {
    let (soft, hard) = fd_limit();
    if soft >= wanted {
        return;
    }
    assert!(
        hard >= wanted,
        "this test needs {wanted} file descriptors but the hard limit is {hard}: \
         raise it (for example `ulimit -Hn {wanted}` as root) and run again"
    );
    set_fd_limit(wanted);
}

/// Sets the soft `RLIMIT_NOFILE` of this process (used by a child process
/// that must run out of descriptors).
pub fn set_fd_limit(soft: u64) {
    let (_, hard) = fd_limit();
    let limit = libc::rlimit {
        rlim_cur: soft.min(hard),
        rlim_max: hard,
    };
    // SAFETY: `limit` is a valid rlimit that lives across the call.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    assert_eq!(rc, 0, "setrlimit: {}", std::io::Error::last_os_error());
}

fn fd_limit() -> (u64, u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable rlimit for the call to fill in.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(rc, 0, "getrlimit: {}", std::io::Error::last_os_error());
    (limit.rlim_cur, limit.rlim_max)
}

/// One of this test binary's own tests, run in a child process: for what
/// must not touch the parent (a lower descriptor limit, a loop that may
/// spin). The child's first line of output is `port N`, the port it serves.
pub struct ChildTest {
    child: std::process::Child,
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl ChildTest {
    /// Starts test `name` of this binary with `env` set, and waits for the
    /// port it prints.
    pub fn start(name: &str, env: (&str, &str)) -> (ChildTest, u16) {
        use std::io::BufRead;
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", name, "--nocapture"])
            .env(env.0, env.1)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let port = loop {
            let mut line = String::new();
            assert!(
                stdout.read_line(&mut line).unwrap() > 0,
                "the child exited early"
            );
            if let Some(port) = line.trim().strip_prefix("port ") {
                break port.parse().unwrap();
            }
        };
        (ChildTest { child, stdout }, port)
    }

    /// Waits up to `limit` for the child to exit (killing it and failing
    /// with `why` if it does not), checks that it succeeded, and returns the
    /// rest of its stdout and its stderr.
    pub fn finish(mut self, limit: Duration, why: &str) -> (String, String) {
        use std::io::Read;
        let deadline = std::time::Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("{why}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).unwrap();
        let mut stderr = String::new();
        let mut err_pipe = self.child.stderr.take().unwrap();
        err_pipe.read_to_string(&mut stderr).unwrap();
        assert!(status.success(), "child failed: {stderr}");
        (rest, stderr)
    }
}

/// The number printed after `label` in `text` (`"errors 12 ticks 3"`).
pub fn number_after(text: &str, label: &str) -> u64 {
    text.split(label)
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no number after {label:?} in {text}"))
}

/// Wraps a future and counts its polls in `polls`.
pub struct Counted<F> {
    pub inner: std::pin::Pin<Box<F>>,
    pub polls: std::rc::Rc<std::cell::Cell<usize>>,
}

impl<F: std::future::Future> std::future::Future for Counted<F> {
    type Output = F::Output;
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        self.polls.set(self.polls.get() + 1);
        self.inner.as_mut().poll(cx)
    }
}

/// A future that is pending until `flag` is set, keeping its latest waker in
/// `slot` so another thread can wake it.
pub fn wait_for_flag(
    flag: std::sync::Arc<std::sync::atomic::AtomicBool>,
    slot: std::sync::Arc<std::sync::Mutex<Option<std::task::Waker>>>,
) -> impl std::future::Future<Output = ()> {
    std::future::poll_fn(move |cx| {
        *slot.lock().unwrap() = Some(cx.waker().clone());
        if flag.load(std::sync::atomic::Ordering::Acquire) {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
}

/// A future that stays pending forever.
pub fn forever() -> impl std::future::Future<Output = ()> {
    std::future::pending()
}

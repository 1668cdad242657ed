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

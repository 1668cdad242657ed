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

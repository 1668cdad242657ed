//! A channel for exactly one value, from any thread to a task.
//!
//! ```
//! use runtime::sync::oneshot;
//!
//! runtime::block_on(async {
//!     let (tx, rx) = oneshot::channel();
//!     std::thread::spawn(move || tx.send("hello from a thread").unwrap());
//!     assert_eq!(rx.await.unwrap(), "hello from a thread");
//! });
//! ```
//!
//! The whole channel is one `Arc` around a mutex: the value, the receiver's
//! waker and two "gone" flags. Sending stores the value and wakes the
//! receiver; dropping the sender unsent wakes it too, so a receiver never
//! waits for a value that cannot come. The loom model `oneshot_*` in
//! `runtime/tests/loom.rs` checks the send / drop / poll races.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::shim::{lock, Mutex};

/// Makes a channel for one value of type `T`.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Mutex::new(Slot {
        value: None,
        receiver_waker: None,
        sender_gone: false,
        receiver_gone: false,
    }));
    (
        Sender {
            inner: inner.clone(),
        },
        Receiver { inner },
    )
}

struct Slot<T> {
    value: Option<T>,
    receiver_waker: Option<Waker>,
    /// The sender sent or was dropped: no value will come after this.
    sender_gone: bool,
    /// The receiver was dropped: a send now gives the value back.
    receiver_gone: bool,
}

/// Sends the one value. May be moved to any thread.
pub struct Sender<T> {
    inner: Arc<Mutex<Slot<T>>>,
}

/// Receives the one value: await it. Gives [`RecvError`] if the sender was
/// dropped without sending.
pub struct Receiver<T> {
    inner: Arc<Mutex<Slot<T>>>,
}

/// The sender was dropped without sending a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the oneshot sender was dropped without sending a value")
    }
}

impl std::error::Error for RecvError {}

impl<T> Sender<T> {
    /// Sends `value`, waking the receiver. Gives the value back as `Err` if
    /// the receiver is already gone.
    pub fn send(self, value: T) -> Result<(), T> {
        let waker = {
            let mut slot = lock(&self.inner);
            if slot.receiver_gone {
                return Err(value);
            }
            slot.value = Some(value);
            slot.sender_gone = true;
            slot.receiver_waker.take()
        };
        // Wake outside the lock; our `Drop` then finds `sender_gone` set.
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// True if the receiver was dropped, so a send would fail.
    pub fn is_closed(&self) -> bool {
        lock(&self.inner).receiver_gone
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut slot = lock(&self.inner);
            if slot.sender_gone {
                return; // sent already
            }
            slot.sender_gone = true;
            slot.receiver_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        crate::coop::budgeted(cx, |cx| {
            let mut slot = lock(&self.inner);
            if let Some(value) = slot.value.take() {
                return Poll::Ready(Ok(value));
            }
            if slot.sender_gone {
                return Poll::Ready(Err(RecvError));
            }
            let replaced = match &slot.receiver_waker {
                Some(waker) if waker.will_wake(cx.waker()) => None,
                _ => slot.receiver_waker.replace(cx.waker().clone()),
            };
            drop(slot);
            drop(replaced); // a waker is user code: dropped outside the lock
            Poll::Pending
        })
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let (value, waker) = {
            let mut slot = lock(&self.inner);
            slot.receiver_gone = true;
            (slot.value.take(), slot.receiver_waker.take())
        };
        // A value nobody will read, and our waker: dropped outside the lock.
        drop((value, waker));
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Receiver").finish_non_exhaustive()
    }
}

//! `yield_now`: Python's `await asyncio.sleep(0)`.
//!
//! The whole trick is one wake: the future wakes its own task and says
//! `Pending`. The wake puts the task at the back of the run queue, so every
//! task that was already ready runs once before this one goes on.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Lets every other ready task run once before the caller goes on.
///
/// ```
/// runtime::block_on(async {
///     runtime::yield_now().await;
/// });
/// ```
pub async fn yield_now() {
    YieldNow { yielded: false }.await
}

struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

//! What the reactor is waking wakers for, right now: a socket event or a
//! timer. A thread-local the reactor sets around its dispatch, so that the
//! runtime's trace can say *why* a task was woken without the reactor
//! knowing anything about tasks.

use std::cell::Cell;

/// What woke a waker inside [`Reactor::turn`](crate::Reactor::turn).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WakeSource {
    /// A socket became ready.
    Socket,
    /// A timer's deadline passed.
    Timer,
}

thread_local! {
    static WAKING: Cell<Option<WakeSource>> = const { Cell::new(None) };
}

/// `Some(source)` while the reactor on this thread is waking wakers for
/// `source`; `None` otherwise.
pub fn waking_for() -> Option<WakeSource> {
    WAKING.try_with(Cell::get).ok().flatten()
}

/// Runs `f` with [`waking_for`] saying `source`.
pub(crate) fn during<R>(source: WakeSource, f: impl FnOnce() -> R) -> R {
    let previous = WAKING.with(|w| w.replace(Some(source)));
    let result = f();
    WAKING.with(|w| w.set(previous));
    result
}

//! What the wakers being woken right now were waiting for: a socket event
//! or a timer. A thread-local set around the waking of the wakers that
//! [`Reactor::turn`](crate::Reactor::turn) gathered, so that the runtime's
//! trace can say *why* a task was woken without the reactor knowing
//! anything about tasks.

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

/// Runs `f` (which wakes wakers gathered by `turn`) with [`waking_for`]
/// saying `source`, and restores what it said before, even if `f` panics.
pub fn waking_as<R>(source: WakeSource, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<WakeSource>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = WAKING.try_with(|w| w.set(self.0));
        }
    }
    let _restore = Restore(WAKING.with(|w| w.replace(Some(source))));
    f()
}

//! Coordinating tasks: Python's `asyncio.Queue`, `Semaphore`, `Event`,
//! `Lock`, `Condition` and `Barrier`, and a one-shot channel.
//!
//! [`Queue`], [`Semaphore`], [`Event`], [`Lock`], [`Condition`] and
//! [`Barrier`] are for the tasks of one loop, like their asyncio namesakes:
//! they use `Rc` and `RefCell`, not locks, so they are not `Send`. All of
//! them are built on one fair wait list
//! (`waiters.rs`): waiters are served in the order they came, and a waiter
//! that is cancelled passes on whatever it had been given.
//!
//! [`oneshot`] is the one piece here that works across threads: its
//! `Sender` may answer from a plain thread or the blocking pool (which is how
//! `spawn_blocking` returns its result).

mod barrier;
mod event;
mod lock;
pub mod oneshot;
mod queue;
mod semaphore;
mod waiters;

pub use barrier::{Barrier, BarrierWait};
pub use event::{Event, Wait};
pub use lock::{Condition, Lock, LockFuture, LockGuard};
pub use queue::{Get, Join, Put, Queue};
pub use semaphore::{Acquire, Semaphore, SemaphorePermit};

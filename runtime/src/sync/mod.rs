//! Coordinating tasks: Python's `asyncio.Queue`, `Semaphore` and `Event`,
//! and a one-shot channel.
//!
//! [`oneshot`] is the one piece here that works across threads: its
//! `Sender` may answer from a plain thread or the blocking pool (which is how
//! `spawn_blocking` returns its result).

pub mod oneshot;

//! looplet: a single-threaded async runtime, written to be read.
//!
//! If you know Python's asyncio, you know the shape of this crate:
//!
//! | asyncio | looplet |
//! |---|---|
//! | `asyncio.run(main())` | [`block_on`]`(main())` |
//! | `asyncio.create_task(coro)` | [`spawn`]`(fut)`, giving a [`JoinHandle`] |
//! | `task.cancel()` | [`JoinHandle::abort`] |
//! | `await task` | `handle.await`, giving `Result<T, JoinError>` |
//! | `asyncio.gather(*aws)` | [`gather()`]`(iter).await`, or [`gather!`]`(a, b).await` |
//! | `asyncio.sleep(0)` | [`yield_now`]`().await` |
//! | `asyncio.sleep(d)` | `time::sleep(d).await` |
//! | `asyncio.wait_for(aw, t)` | `time::timeout(t, fut).await` |
//! | `asyncio.wait(aws, return_when=FIRST_COMPLETED)` | [`race`]`(a, b)`, [`first`]`(iter)` |
//! | `asyncio.as_completed(aws)` | [`as_completed`]`(iter)`, a `Stream` |
//! | `async with asyncio.TaskGroup() as tg` | [`TaskGroup`]: `spawn`, `join_next`, `try_join_all` |
//! | `loop.run_in_executor(None, f)` | [`spawn_blocking`]`(f).await` |
//! | `asyncio.open_connection` / `start_server` | `net::TcpStream::connect` / `net::TcpListener::bind` |
//! | `asyncio.Queue`, `Semaphore`, `Event` | `sync::Queue`, `sync::Semaphore`, `sync::Event` |
//! | `async for x in source` | `while let Some(x) = source.next().await` ([`stream::StreamExt`]) |
//! | `contextvars.ContextVar` | [`context_var!`] and [`ContextVar`]: `get`, `set` |
//! | `async def rows(): ... yield row` | [`stream::generate`]`(\|mut y\| async move { ... y.yield_(row).await })` |
//! | `asyncio.all_tasks()` | [`tasks()`], each a [`TaskInfo`] that says what it waits on |
//! | debug mode, `slow_callback_duration` | [`Builder::slow_poll_threshold`], or `LOOPLET_DEBUG=1` |
//!
//! A whole program:
//!
//! ```
//! let total = runtime::block_on(async {
//!     let tasks = (1..=10).map(|n| runtime::spawn(async move { n * n }));
//!     let mut total = 0;
//!     for task in tasks.collect::<Vec<_>>() {
//!         total += task.await.unwrap();
//!     }
//!     total
//! });
//! assert_eq!(total, 385);
//! ```
//!
//! # How the crate is built
//!
//! Read the files in this order; each one uses only those before it (the
//! test `tests/imports.rs` fails on an import cycle, so this stays true).
//!
//! - `shim.rs`: the std/loom switch, so the model checker checks what ships.
//! - `park.rs` (built only for the model checker): a condvar in place of
//!   the reactor, so that loom can see the loop sleep and wake.
//! - `error.rs`: `JoinError`, and the label that names a task in messages.
//! - `context.rs`: context variables, a value per task copied into the
//!   tasks it spawns (asyncio's `contextvars`);
//! - `contain.rs`: catching panics in user code the loop runs for itself;
//!   `coop.rs`: the cooperative budget every leaf future spends from.
//! - `observe/`: seeing inside the loop, from beside it: what each task
//!   waits on (`tasks()`), slow-poll warnings, the watchdog, `LOOPLET_TRACE`,
//!   and where reports go. The core calls it through the hooks listed in
//!   `observe/mod.rs`.
//! - `choose.rs` (with the feature `explore`): the seeded choice of the
//!   next ready task, and the generator behind it.
//! - `task.rs`: a task in one allocation, its state word, its waker;
//!   `table.rs`: the loop's list of live tasks; `join.rs`: `JoinHandle`.
//! - `queue.rs`: the local and injection run queues, and the sleep handshake.
//! - `blocking.rs`: the thread pool behind `spawn_blocking` (jobs and
//!   threads only; it knows nothing of tasks).
//! - `sync/oneshot.rs`: a one-value channel, across threads; then
//!   `sync/waiters.rs`, `sync/queue.rs`, `semaphore.rs`, `event.rs`:
//!   asyncio's coordination tools on one fair wait list.
//! - `executor.rs`: the loop itself: `block_on`, `spawn`, `spawn_blocking`;
//!   `builder.rs`: its settings; `explore.rs` (feature `explore`): seeds.
//! - `handle.rs`: the loop as a socket or timer holds it, `Send + Sync`:
//!   used only on the loop's thread, released through the loop from any.
//! - `gather.rs`, `yield_now.rs`: small futures built on the pieces above;
//!   `race.rs`: `race`, `first` and `as_completed`, on gather's bookkeeping;
//!   `task_group.rs`: `TaskGroup`, tasks whose results are taken together.
//! - `time.rs`: `sleep`, `timeout`, `interval` over the reactor's timers;
//!   `fs.rs`: files, on the blocking pool (or the page cache); `process.rs`: child
//!   processes, their pipes and their exit, through the reactor;
//!   `signal.rs`: Unix signals as streams (the self-pipe trick).
//! - `net/`: TCP and UDP sockets over the reactor's registrations
//!   (`net/registered.rs` is the one loop every socket method runs;
//!   `net/byte_stream.rs` the bytes and split halves of TCP and Unix streams);
//!   `stream.rs`: the `.next().await` of async iteration; `generate.rs`:
//!   async generators, Python's `yield` in an `async def`.

#![warn(missing_docs, missing_debug_implementations)]

mod blocking;
mod builder;
#[cfg(feature = "explore")]
mod choose;
mod contain;
mod context;
mod coop;
mod error;
mod executor;
#[cfg(all(feature = "explore", not(loom)))]
pub mod explore;
#[cfg(not(loom))]
pub mod fs;
mod gather;
#[cfg(not(loom))]
mod generate;
mod handle;
#[cfg(all(feature = "hyper", not(loom)))]
pub mod hyper;
mod join;
#[cfg(not(loom))]
pub mod net;
mod observe;
#[cfg(loom)]
mod park;
#[cfg(all(unix, not(loom)))]
pub mod process;
mod queue;
mod race;
mod shim;
#[cfg(all(unix, not(loom)))]
pub mod signal;
#[cfg(not(loom))]
pub mod stream;
pub mod sync;
mod table;
mod task;
mod task_group;
#[cfg(not(loom))]
pub mod time;
mod yield_now;

pub use builder::Builder;
pub use context::ContextVar;
pub use error::JoinError;
pub use executor::{block_on, spawn, spawn_blocking, spawn_named, tasks, Runtime};
pub use gather::{gather, try_gather};
pub use join::JoinHandle;
pub use observe::TaskInfo;
pub use race::{as_completed, first, race, AsCompleted, Either};
pub use task_group::{GroupError, TaskGroup};
pub use yield_now::yield_now;

/// Items the `gather!` macro expands to. Not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::gather::{ChildWakers, MaybeDone};
    pub use crate::observe::ChildRecords;
}

/// Internals the loom models drive directly. Only under `--cfg loom`.
#[cfg(loom)]
#[doc(hidden)]
pub mod __loom {
    pub use crate::blocking::Pool;
    pub use crate::handle::Probe;
    pub use crate::park::sleep_in_poll;
}

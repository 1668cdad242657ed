//! Seeing inside the loop: what each task waits on, task names, and the
//! list of live tasks (`tasks()`, asyncio's `all_tasks()`).
//!
//! # "Waiting on" records, kept for free
//!
//! looplet owns every leaf future a task can wait in: timers, sockets,
//! join handles, the blocking pool, queues, semaphores, events. When one of
//! them returns `Pending`, it writes a one-word [`WaitRecord`] ("a timer
//! due at T", "socket fd 7, to read", "task #12") into a thread-local slot.
//! The loop clears that slot before it polls a task, and copies it into the
//! task's header when the poll returns `Pending`. So the record always says
//! what the task's *last* poll stopped on, it costs a thread-local write per
//! `Pending`, and it needs no allocation and no lock. Futures that wrap
//! others (`gather`, `timeout`) save and restore the slot around their
//! children, so the innermost wait wins.
//!
//! A record is only looked at when somebody calls [`tasks()`]; turning it
//! into words ("a timer that fires in 1.2 s") happens then.
//!
//! # Names
//!
//! An unnamed task is known by where it was spawned (`src/main.rs:12`), a
//! `&'static Location` in its header: free. A name given to `spawn_named`
//! goes into a per-thread map from task id to name, so only named tasks pay
//! for a name.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::error::TaskLabel;

// ANCHOR: record
/// What a task waits on, in one word: a kind in the top byte, and a
/// payload (a deadline, a descriptor, a task id) in the other 56 bits.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct WaitRecord(u64);

const KIND_SHIFT: u32 = 56;
const PAYLOAD: u64 = (1 << KIND_SHIFT) - 1;
/// A timer's payload for "further away than a payload can say" (about 2.3
/// years past the epoch); `PAYLOAD` itself means "never".
const FAR_AWAY: u64 = PAYLOAD - 1;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
enum Kind {
    None = 0,
    Timer,
    SocketRead,
    SocketWrite,
    Join,
    Blocking,
    QueueGet,
    QueuePut,
    Semaphore,
    Event,
    Gather,
    Lock,
    Condition,
    Barrier,
    QueueJoin,
}
// ANCHOR_END: record

impl WaitRecord {
    pub(crate) const NONE: WaitRecord = WaitRecord::new(Kind::None, 0);
    pub(crate) const BLOCKING: WaitRecord = WaitRecord::new(Kind::Blocking, 0);
    pub(crate) const QUEUE_GET: WaitRecord = WaitRecord::new(Kind::QueueGet, 0);
    pub(crate) const QUEUE_PUT: WaitRecord = WaitRecord::new(Kind::QueuePut, 0);
    pub(crate) const SEMAPHORE: WaitRecord = WaitRecord::new(Kind::Semaphore, 0);
    pub(crate) const EVENT: WaitRecord = WaitRecord::new(Kind::Event, 0);
    pub(crate) const LOCK: WaitRecord = WaitRecord::new(Kind::Lock, 0);
    pub(crate) const CONDITION: WaitRecord = WaitRecord::new(Kind::Condition, 0);
    pub(crate) const BARRIER: WaitRecord = WaitRecord::new(Kind::Barrier, 0);
    pub(crate) const QUEUE_JOIN: WaitRecord = WaitRecord::new(Kind::QueueJoin, 0);

    const fn new(kind: Kind, payload: u64) -> WaitRecord {
        WaitRecord((kind as u64) << KIND_SHIFT | (payload & PAYLOAD))
    }

    /// A timer due at `deadline` (`None`: never).
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn timer(deadline: Option<Instant>) -> WaitRecord {
        // Nanoseconds since a process-wide epoch: 56 bits last 2 years.
        // Later deadlines are clamped to FAR_AWAY, which reads "more than".
        // (The u128 is clamped before it is narrowed: a plain `as u64` would
        // wrap 585 years into 21 days.)
        let nanos = deadline.map_or(PAYLOAD, |d| {
            let nanos = d.saturating_duration_since(epoch()).as_nanos();
            u64::try_from(nanos).map_or(FAR_AWAY, |n| n.min(FAR_AWAY))
        });
        WaitRecord::new(Kind::Timer, nanos)
    }

    /// A socket (its file descriptor), waiting to read or to write.
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn socket(fd: i32, write: bool) -> WaitRecord {
        let kind = if write {
            Kind::SocketWrite
        } else {
            Kind::SocketRead
        };
        WaitRecord::new(kind, fd as u32 as u64)
    }

    /// The `JoinHandle` of task `id`.
    pub(crate) fn join(id: u64) -> WaitRecord {
        WaitRecord::new(Kind::Join, id)
    }

    /// A `gather` of children, `pending` of them not finished.
    pub(crate) fn gather(pending: usize) -> WaitRecord {
        WaitRecord::new(Kind::Gather, pending as u64)
    }

    pub(crate) fn to_bits(self) -> u64 {
        self.0
    }

    fn kind(self) -> Kind {
        match (self.0 >> KIND_SHIFT) as u8 {
            1 => Kind::Timer,
            2 => Kind::SocketRead,
            3 => Kind::SocketWrite,
            4 => Kind::Join,
            5 => Kind::Blocking,
            6 => Kind::QueueGet,
            7 => Kind::QueuePut,
            8 => Kind::Semaphore,
            9 => Kind::Event,
            10 => Kind::Gather,
            11 => Kind::Lock,
            12 => Kind::Condition,
            13 => Kind::Barrier,
            14 => Kind::QueueJoin,
            _ => Kind::None,
        }
    }

    fn payload(self) -> u64 {
        self.0 & PAYLOAD
    }

    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn is_none(self) -> bool {
        self.kind() == Kind::None
    }

    /// The record in words. `others` gives the records of other tasks, so
    /// that "JoinHandle of task #5" can say that #5 is a blocking job.
    fn describe(self, others: &HashMap<u64, WaitRecord>) -> Option<String> {
        Some(match self.kind() {
            Kind::None => return None,
            Kind::Timer if self.payload() == PAYLOAD => "a timer that never fires".into(),
            Kind::Timer if self.payload() == FAR_AWAY => {
                let limit = epoch() + Duration::from_nanos(FAR_AWAY);
                let left = limit.saturating_duration_since(Instant::now());
                format!("a timer that fires in more than {}", seconds(left))
            }
            Kind::Timer => {
                let due = epoch() + Duration::from_nanos(self.payload());
                let now = Instant::now();
                match due.checked_duration_since(now) {
                    Some(left) => format!("a timer that fires in {}", seconds(left)),
                    None => format!("a timer that fired {} ago", seconds(now - due)),
                }
            }
            Kind::SocketRead if is_listener(self.payload() as i32) => {
                format!(
                    "{}, to accept a connection",
                    describe_socket(self.payload() as i32)
                )
            }
            Kind::SocketRead => format!("{}, to read", describe_socket(self.payload() as i32)),
            Kind::SocketWrite => format!("{}, to write", describe_socket(self.payload() as i32)),
            Kind::Join => {
                let id = self.payload();
                match others.get(&id).map(|r| r.kind()) {
                    Some(Kind::Blocking) => format!("a spawn_blocking job (task #{id})"),
                    _ => format!("the JoinHandle of task #{id}"),
                }
            }
            Kind::Blocking => "a job on the blocking pool".into(),
            Kind::QueueGet => "Queue::get (the queue is empty)".into(),
            Kind::QueuePut => "Queue::put (the queue is full)".into(),
            Kind::Semaphore => "Semaphore::acquire (no permit free)".into(),
            Kind::Event => "Event::wait (not set)".into(),
            Kind::Lock => "Lock::lock (held by another task)".into(),
            Kind::Condition => "Condition::wait (not notified yet)".into(),
            Kind::Barrier => "Barrier::wait (not every party has arrived)".into(),
            Kind::QueueJoin => "Queue::join (items not marked done)".into(),
            Kind::Gather => format!("gather, {} children not finished", self.payload()),
        })
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

/// The instant timer records count from.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

// std's `thread_local!`, not the loom shim's, even under loom: these are
// notes for humans, not part of any handshake, and std's `const` form is
// the cheapest there is (the record is written on every `Pending`).
std::thread_local! {
    /// The record of the poll running on this thread (see the module docs).
    static RECORD: Cell<WaitRecord> = const { Cell::new(WaitRecord::NONE) };
    /// True once a task on this thread was given a name.
    static ANY_NAMES: Cell<bool> = const { Cell::new(false) };
    /// Names given with `spawn_named`, by task id.
    static NAMES: RefCell<Option<HashMap<u64, Arc<str>>>> = const { RefCell::new(None) };
    /// Each gathering task's children's records, by task id.
    static GATHERS: RefCell<Option<HashMap<u64, ChildWaits>>> = const { RefCell::new(None) };
}

// ANCHOR: recording
/// Called by a runtime future that is about to return `Pending`.
#[inline]
pub(crate) fn waiting_on(record: WaitRecord) {
    let _ = RECORD.try_with(|slot| slot.set(record));
}

/// Before a task's poll: counts it in the task's `polls` (saturating) and
/// clears the slot. Task polls never nest on one thread (a loop polls one
/// task at a time), so there is nothing to save: two stores, on every poll.
/// (Which task runs is `context.rs`'s to know.)
#[inline]
pub(crate) fn poll_started(polls: &Cell<u32>) {
    polls.set(polls.get().saturating_add(1));
    let _ = RECORD.try_with(|slot| slot.set(WaitRecord::NONE));
}

/// After a task's poll returned `Pending`: keeps what it recorded in the
/// task's `waiting_on`, for `tasks()`.
#[inline]
pub(crate) fn poll_pending(waiting_on: &Cell<WaitRecord>) {
    waiting_on.set(RECORD.try_with(Cell::get).unwrap_or(WaitRecord::NONE));
}

/// A recording of what one child future waits on, inside a task's poll
/// (a `gather` child, the future inside a `timeout`). It saves the slot
/// and clears it; `finish` returns what the child recorded; dropping it
/// (after `finish`, or on a `Ready` or a panic) puts the saved value back,
/// so the parent's own record is not lost.
pub(crate) struct Recording {
    saved: WaitRecord,
}

impl Recording {
    pub(crate) fn start_child() -> Recording {
        Recording {
            saved: RECORD
                .try_with(|slot| slot.replace(WaitRecord::NONE))
                .unwrap_or(WaitRecord::NONE),
        }
    }

    /// What the child recorded.
    pub(crate) fn finish(self) -> WaitRecord {
        RECORD.try_with(Cell::get).unwrap_or(WaitRecord::NONE)
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        let _ = RECORD.try_with(|slot| slot.set(self.saved));
    }
}
// ANCHOR_END: recording

/// Remembers `name` for task `id` (a `spawn_named` task).
pub(crate) fn set_name(id: u64, name: &str) {
    ANY_NAMES.with(|any| any.set(true));
    NAMES.with(|names| {
        names
            .borrow_mut()
            .get_or_insert_with(HashMap::new)
            .insert(id, Arc::from(name))
    });
}

/// Task `id` has finished: forget its name, if it had one. Cheap when no
/// task was ever named on this thread (one flag), so the task needs no
/// "named" bit of its own.
#[inline]
pub(crate) fn task_finished(id: u64) {
    if ANY_NAMES.try_with(Cell::get).unwrap_or(false) {
        forget_name(id);
    }
}

#[cold]
fn forget_name(id: u64) {
    let _ = NAMES.try_with(|names| names.borrow_mut().as_mut().map(|n| n.remove(&id)));
}

/// Task `id`'s name, if it was given one.
pub(crate) fn name_of(id: u64) -> Option<Arc<str>> {
    if !ANY_NAMES.try_with(Cell::get).unwrap_or(false) {
        return None;
    }
    NAMES
        .try_with(|names| names.borrow().as_ref()?.get(&id).cloned())
        .ok()
        .flatten()
}

/// A gather's children's records, one word each.
type ChildWaits = Arc<[AtomicU64]>;

/// A gather inside task `id` registers its children's records.
fn set_gather_children(id: u64, records: ChildWaits) {
    let _ = GATHERS.try_with(|g| {
        g.borrow_mut()
            .get_or_insert_with(HashMap::new)
            .insert(id, records)
    });
}

/// A gather is gone: unregister its records (if a newer gather in the same
/// task has not replaced them).
fn clear_gather_children(id: u64, records: &ChildWaits) {
    let _ = GATHERS.try_with(|g| {
        if let Some(g) = g.borrow_mut().as_mut() {
            if g.get(&id).is_some_and(|r| Arc::ptr_eq(r, records)) {
                g.remove(&id);
            }
        }
    });
}

/// What the loop hands `tasks()` about one task, read from its header.
pub(crate) struct TaskSnapshot {
    pub(crate) label: TaskLabel,
    pub(crate) spawned_at: &'static Location<'static>,
    pub(crate) polls: u64,
    pub(crate) waiting_on: WaitRecord,
}

/// What `tasks()` gives for one live task: asyncio's `Task` repr, in words.
#[derive(Debug, Clone)]
pub struct TaskInfo {
    id: u64,
    label: TaskLabel,
    name: String,
    spawned_at: &'static Location<'static>,
    polls: u64,
    waiting_on: Option<String>,
}

impl TaskInfo {
    /// Unique within the process, never reused.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The name given to `spawn_named`, or the spawn location "file:line".
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where `spawn` (or `spawn_named`) was called.
    pub fn spawned_at(&self) -> &'static Location<'static> {
        self.spawned_at
    }

    /// How many times the task has been polled.
    pub fn polls(&self) -> u64 {
        self.polls
    }

    /// What the task waits on, in words, when a runtime future knows it:
    /// "a timer that fires in 0.250 s", "socket 127.0.0.1:8080 <-
    /// 127.0.0.1:51234, to read", "the JoinHandle of task #3", ...
    pub fn waiting_on(&self) -> Option<&str> {
        self.waiting_on.as_deref()
    }
}

// ANCHOR: display
impl fmt::Display for TaskInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.label)?;
        let times = if self.polls == 1 { "time" } else { "times" };
        write!(f, ", polled {} {times}", self.polls)?;
        match &self.waiting_on {
            Some(what) => write!(f, ", waiting on {what}"),
            None if self.polls == 0 => write!(f, ", not started yet"),
            None => write!(f, ", waiting on something outside looplet"),
        }
    }
}
// ANCHOR_END: display

/// "file:line", how an unnamed task is known.
pub(crate) fn location_name(at: &Location<'_>) -> String {
    format!("{}:{}", at.file(), at.line())
}

/// Builds the `TaskInfo`s of a loop's live tasks from their headers'
/// (id, location, polls, record), in that order.
pub(crate) fn task_infos(tasks: impl Iterator<Item = TaskSnapshot>) -> Vec<TaskInfo> {
    let mut tasks: Vec<_> = tasks.collect();
    tasks.sort_unstable_by_key(|t| t.label.id()); // oldest first, as they were spawned
    let records: HashMap<u64, WaitRecord> =
        tasks.iter().map(|t| (t.label.id(), t.waiting_on)).collect();
    let gathers: HashMap<u64, Vec<WaitRecord>> = GATHERS.with(|g| {
        g.borrow()
            .iter()
            .flatten()
            .map(|(id, r)| {
                (
                    *id,
                    r.iter()
                        .map(|w| WaitRecord(w.load(Ordering::Relaxed)))
                        .collect(),
                )
            })
            .collect()
    });
    tasks
        .into_iter()
        .map(|task| {
            let id = task.label.id();
            let record = task.waiting_on;
            let mut waiting_on = record.describe(&records);
            if record.kind() == Kind::Gather {
                if let Some(children) = gathers.get(&id) {
                    let parts: Vec<String> = children
                        .iter()
                        .enumerate()
                        .filter_map(|(i, r)| Some(format!("child {i}: {}", r.describe(&records)?)))
                        .collect();
                    if !parts.is_empty() {
                        waiting_on = Some(format!(
                            "{} [{}]",
                            waiting_on.unwrap_or_default(),
                            parts.join("; ")
                        ));
                    }
                }
            }
            TaskInfo {
                id,
                name: task
                    .label
                    .name()
                    .map_or_else(|| location_name(task.spawned_at), str::to_string),
                label: task.label,
                spawned_at: task.spawned_at,
                polls: task.polls,
                waiting_on,
            }
        })
        .collect()
}

/// Is `fd` a listening socket?
#[cfg(unix)]
fn is_listener(fd: i32) -> bool {
    let mut on: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `on` and `len` describe a c_int that outlives the call; a
    // closed or non-socket descriptor makes the call fail, and we say no.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ACCEPTCONN,
            (&mut on as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    rc == 0 && on != 0
}

#[cfg(not(unix))]
fn is_listener(_fd: i32) -> bool {
    false
}

/// "socket 127.0.0.1:8080 <- 127.0.0.1:51234", from the descriptor alone.
fn describe_socket(fd: i32) -> String {
    match (sock_addr(fd, false), sock_addr(fd, true)) {
        (Some(local), Some(peer)) => format!("socket {local} <- {peer}"),
        (Some(local), None) => format!("socket {local}"),
        _ => format!("socket fd {fd}"),
    }
}

/// The local (`peer == false`) or remote address of socket `fd`, asked of
/// the socket through std (`getsockname` and `getpeername` underneath).
#[cfg(unix)]
fn sock_addr(fd: i32, peer: bool) -> Option<std::net::SocketAddr> {
    use std::mem::ManuallyDrop;
    use std::os::fd::FromRawFd;
    // A socket record is written by a task's latest poll, which stopped on
    // that socket, and the task's future owns it while the task is pending
    // and listed. Any socket type will do: both calls work on every socket.
    // SAFETY: the descriptor is open for this call (above), and the
    // `ManuallyDrop` keeps us from closing what we do not own.
    let socket = ManuallyDrop::new(unsafe { std::net::TcpStream::from_raw_fd(fd) });
    if peer {
        socket.peer_addr().ok()
    } else {
        socket.local_addr().ok()
    }
}

#[cfg(not(unix))]
fn sock_addr(_fd: i32, _peer: bool) -> Option<std::net::SocketAddr> {
    None
}

/// What each child of a gather waits on, kept here beside the rest so that
/// `tasks()` can show it: one word per child, written after each child's
/// poll (a relaxed store, no lock), registered under the gathering task's
/// id the first time the gather waits, and unregistered when it is dropped.
/// Used by `gather`, `try_gather` and the `gather!` macro alike.
#[doc(hidden)]
#[derive(Debug)]
pub struct ChildRecords {
    records: Arc<[std::sync::atomic::AtomicU64]>,
    owner: Option<u64>,
}

impl ChildRecords {
    #[doc(hidden)]
    pub fn new(n: usize) -> ChildRecords {
        let none = WaitRecord::NONE.to_bits();
        ChildRecords {
            records: (0..n)
                .map(|_| std::sync::atomic::AtomicU64::new(none))
                .collect(),
            owner: None,
        }
    }

    /// Polls child `index` with `poll` (true when it finished) and keeps
    /// what it now waits on.
    #[doc(hidden)]
    pub fn poll(&self, index: usize, poll: impl FnOnce() -> bool) -> bool {
        let recording = Recording::start_child();
        let done = poll();
        let record = if done {
            WaitRecord::NONE
        } else {
            recording.finish()
        };
        // Relaxed: only read by `tasks()` on this same thread.
        self.records[index].store(record.to_bits(), std::sync::atomic::Ordering::Relaxed);
        done
    }

    /// The gather is about to wait: say so, and register the records once.
    #[doc(hidden)]
    pub fn publish(&mut self, pending: usize) {
        waiting_on(WaitRecord::gather(pending));
        if self.owner.is_none() {
            let task = crate::context::current_task();
            set_gather_children(task, self.records.clone());
            self.owner = Some(task);
        }
    }
}

impl Drop for ChildRecords {
    fn drop(&mut self) {
        if let Some(task) = self.owner {
            clear_gather_children(task, &self.records);
        }
    }
}

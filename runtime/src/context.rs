//! Context variables: asyncio's `contextvars`. A value per task, set by the
//! task, seen by everything it awaits, and *copied* into the tasks it
//! spawns, as asyncio copies the context at `create_task`. (tokio's
//! `task_local!` is not inherited, which surprises asyncio users.)
//!
//! ```
//! runtime::context_var! { static REQUEST_ID: u64 = 0; }
//! runtime::block_on(async {
//!     REQUEST_ID.set(7);
//!     let child = runtime::spawn(async {
//!         let seen = REQUEST_ID.get(); // a copy of the spawner's values
//!         REQUEST_ID.set(8); // the child's own; the parent does not see it
//!         seen
//!     });
//!     assert_eq!(child.await.unwrap(), 7);
//!     assert_eq!(REQUEST_ID.get(), 7);
//! });
//! ```
//!
//! # What it costs
//!
//! Values live in a per-thread map from task id to that task's values,
//! which holds only tasks that have some. A spawned task shares its
//! spawner's values (one reference count) until either side sets one: then
//! that side copies them first. A program that never sets a variable pays
//! one flag check per spawn and per finished task, and one thread-local
//! store per poll (which task is running, which `tasks()` uses too): no
//! allocation, so a spawn is still one allocation.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

// ANCHOR: thread_locals
/// One task's values, by variable (the address of its `static`).
type Values = HashMap<usize, Rc<dyn Any>>;

std::thread_local! {
    /// Who is running: `None` outside any loop, `Some(0)` for the main
    /// future of `block_on`, `Some(id)` during a poll of task `id`.
    static CURRENT: Cell<Option<u64>> = const { Cell::new(None) };
    /// True once a value was set on this thread; until then, nothing below
    /// is looked at.
    static ANY: Cell<bool> = const { Cell::new(false) };
    /// The values of the tasks (and main future, at 0) that have some.
    static VALUES: RefCell<Option<HashMap<u64, Rc<Values>>>> = const { RefCell::new(None) };
}
// ANCHOR_END: thread_locals

/// A context variable; declare one with [`context_var!`](crate::context_var).
pub struct ContextVar<T> {
    default: fn() -> T,
}

/// Declares context variables: `context_var! { static NAME: Type = default; }`,
/// one or more. See [`ContextVar`].
#[macro_export]
macro_rules! context_var {
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr; $($rest:tt)*) => {
        $(#[$attr])*
        $vis static $name: $crate::ContextVar<$t> = $crate::ContextVar::new({
            fn default() -> $t {
                $init
            }
            default
        });
        $crate::context_var!($($rest)*);
    };
    () => {};
}

impl<T: Clone + 'static> ContextVar<T> {
    #[doc(hidden)]
    pub const fn new(default: fn() -> T) -> ContextVar<T> {
        ContextVar { default }
    }

    /// The running task's value (or the main future's), else the default.
    /// Outside a loop, the default.
    pub fn get(&'static self) -> T {
        let found = match CURRENT.with(Cell::get) {
            Some(who) if ANY.with(Cell::get) => VALUES.with(|values| {
                let values = values.borrow();
                let value = values.as_ref()?.get(&who)?.get(&self.key())?;
                value.downcast_ref::<T>().cloned()
            }),
            _ => None,
        };
        found.unwrap_or_else(self.default)
    }

    // ANCHOR: set
    /// Sets the running task's value. Tasks it spawns from now on start with
    /// it; tasks it spawned before, and the task that spawned it, do not see
    /// it.
    ///
    /// # Panics
    ///
    /// Outside a running loop: there is no task to set it for. Set it
    /// inside `runtime::block_on(...)`.
    pub fn set(&'static self, value: T) {
        let Some(who) = CURRENT.with(Cell::get) else {
            panic!(
                "ContextVar::set was called outside a running event loop: a context \
                 value belongs to a task; set it inside runtime::block_on(...)"
            );
        };
        ANY.with(|any| any.set(true));
        let value: Rc<dyn Any> = Rc::new(value);
        let old = VALUES.with(|values| {
            let mut values = values.borrow_mut();
            let mine = values
                .get_or_insert_with(HashMap::new)
                .entry(who)
                .or_default();
            // Shared with a spawner or a child? Copy first, then write.
            Rc::make_mut(mine).insert(self.key(), value)
        });
        drop(old); // a user's value: dropped outside the borrow
    }
    // ANCHOR_END: set

    fn key(&'static self) -> usize {
        self as *const ContextVar<T> as usize
    }
}

impl<T> fmt::Debug for ContextVar<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContextVar")
    }
}

// ANCHOR: hooks
// The loop's hooks: which task runs, what a new task inherits, and what a
// finished task leaves behind.

/// Task `id` is about to be polled. (Tasks never nest on a thread, so the
/// loop need not put anything back after the poll: the main future's poll
/// says so itself, with `enter_main`.) One thread-local store.
#[inline]
pub(crate) fn enter_task(id: u64) {
    let _ = CURRENT.try_with(|current| current.set(Some(id)));
}

/// The main future of `block_on` is about to be polled.
#[inline]
pub(crate) fn enter_main() {
    let _ = CURRENT.try_with(|current| current.set(Some(0)));
}

/// Who runs on this thread (`Some(0)`: the main future; `None`: no loop),
/// replaced by `who`: `block_on` sets and restores it around a loop.
pub(crate) fn set_current(who: Option<u64>) -> Option<u64> {
    CURRENT
        .try_with(|current| current.replace(who))
        .unwrap_or(None)
}

/// The task being polled on this thread, or 0 (the main future, or none).
pub(crate) fn current_task() -> u64 {
    CURRENT.try_with(Cell::get).ok().flatten().unwrap_or(0)
}

/// A new task `child` starts with a copy of the running task's values
/// (shared until either side sets one). Free when nothing was ever set.
#[inline]
pub(crate) fn inherit(child: u64) {
    if !ANY.with(Cell::get) {
        return;
    }
    let Some(parent) = CURRENT.with(Cell::get) else {
        return;
    };
    VALUES.with(|values| {
        let mut values = values.borrow_mut();
        let Some(map) = values.as_mut() else { return };
        if let Some(shared) = map.get(&parent).cloned() {
            map.insert(child, shared);
        }
    });
}

/// Task `id` (or, with 0, the main future of a `block_on` that ended) is
/// gone: its values go. Free when nothing was ever set.
#[inline]
pub(crate) fn forget(id: u64) {
    if !ANY.try_with(Cell::get).unwrap_or(false) {
        return;
    }
    let gone = VALUES
        .try_with(|values| values.borrow_mut().as_mut()?.remove(&id))
        .ok()
        .flatten();
    drop(gone); // users' values: dropped outside the borrow
}
// ANCHOR_END: hooks

//! The loop's table of live tasks: every task that has not finished, so
//! the loop can drop them all when it ends, and list them (`tasks()`).
//!
//! A slot array with a free list, like a `slab`, but an empty slot is a
//! `None` (which costs nothing extra in an `Option<TaskRef>`, a non-null
//! pointer) and the free list is a separate vector of 4-byte indices. Each
//! live task costs 8 bytes here instead of a slab entry's 16 (24 with a fat
//! `Arc<dyn ..>`, as tasks were once held). A task keeps its slot number in
//! its header, so removal is O(1).
//!
//! The slots come in pages of [`PAGE`] that never move. A single `Vec` would
//! double when full: copying every slot at that moment, and holding up to
//! twice the room it needs (131,072 slots for 100,000 tasks). Pages grow by
//! 8 KiB at a time, and a slot's place is `(slot / PAGE, slot % PAGE)`.

use crate::task::TaskRef;

/// Slots per page: 1,024 (8 KiB).
const PAGE: usize = 1024;

type Page = Box<[Option<TaskRef>; PAGE]>;

#[derive(Default)]
pub(crate) struct TaskTable {
    pages: Vec<Page>,
    /// Slots handed out so far (in use or freed): the next new slot.
    used: usize,
    free: Vec<u32>,
    live: usize,
}

impl TaskTable {
    /// Stores `task` and returns its slot.
    pub(crate) fn insert(&mut self, task: TaskRef) -> usize {
        self.live += 1;
        let slot = match self.free.pop() {
            Some(slot) => slot as usize,
            None => {
                if self.used == self.pages.len() * PAGE {
                    self.pages.push(Box::new([const { None }; PAGE]));
                }
                self.used += 1;
                self.used - 1
            }
        };
        self.pages[slot / PAGE][slot % PAGE] = Some(task);
        slot
    }

    /// Takes the task out of `slot`; the slot is reused later.
    pub(crate) fn remove(&mut self, slot: usize) -> Option<TaskRef> {
        let task = self.pages.get_mut(slot / PAGE)?[slot % PAGE].take()?;
        self.live -= 1;
        self.free
            .push(u32::try_from(slot).expect("fewer than 4 billion slots"));
        Some(task)
    }

    /// Takes every task out, for the end of the loop.
    pub(crate) fn drain(&mut self) -> Vec<TaskRef> {
        let tasks = self.iter_mut().filter_map(Option::take).collect();
        *self = TaskTable::default();
        tasks
    }

    fn iter_mut(&mut self) -> impl Iterator<Item = &mut Option<TaskRef>> {
        self.pages.iter_mut().flat_map(|page| page.iter_mut())
    }

    /// The live tasks, in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &TaskRef> {
        self.pages.iter().flat_map(|page| page.iter().flatten())
    }

    /// How many tasks are live.
    pub(crate) fn len(&self) -> usize {
        self.live
    }
}

//! The loop's table of live tasks: every task that has not finished, so
//! the loop can drop them all when it ends, and list them (`tasks()`).
//!
//! A slot vector with a free list, like a `slab`, but an empty slot is a
//! `None` (which costs nothing extra in an `Option<TaskRef>`, a non-null
//! pointer) and the free list is a separate vector of 4-byte indices. Each
//! live task costs 8 bytes here instead of a slab entry's 16 (24 with a fat
//! `Arc<dyn ..>`, as tasks were once held). A task keeps its slot number in
//! its header, so removal is O(1).

use crate::task::TaskRef;

#[derive(Default)]
pub(crate) struct TaskTable {
    slots: Vec<Option<TaskRef>>,
    free: Vec<u32>,
    live: usize,
}

impl TaskTable {
    /// Stores `task` and returns its slot.
    pub(crate) fn insert(&mut self, task: TaskRef) -> usize {
        self.live += 1;
        match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(task);
                slot as usize
            }
            None => {
                self.slots.push(Some(task));
                self.slots.len() - 1
            }
        }
    }

    /// Takes the task out of `slot`; the slot is reused later.
    pub(crate) fn remove(&mut self, slot: usize) -> Option<TaskRef> {
        let task = self.slots.get_mut(slot)?.take()?;
        self.live -= 1;
        self.free
            .push(u32::try_from(slot).expect("fewer than 4 billion slots"));
        Some(task)
    }

    /// Takes every task out, for the end of the loop.
    pub(crate) fn drain(&mut self) -> Vec<TaskRef> {
        self.free.clear();
        self.live = 0;
        std::mem::take(&mut self.slots)
            .into_iter()
            .flatten()
            .collect()
    }

    /// The live tasks, in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &TaskRef> {
        self.slots.iter().flatten()
    }

    /// How many tasks are live.
    pub(crate) fn len(&self) -> usize {
        self.live
    }
}

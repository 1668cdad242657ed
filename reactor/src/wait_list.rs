//! Wait lists: several wakers waiting on one thing, oldest first.
//!
//! Anything a `&self` method can wait on (a listener's accept, a UDP
//! socket's receive, a queue's `get`) may have several tasks waiting at
//! once. Keeping one waker slot per thing is the classic bug: the second
//! waiter overwrites the first, and the first is never woken. So each thing
//! keeps a *list* of waiters, and the waiters live in a slab:
//!
//! - [`Waiters`] is the slab, the storage of every waiter's node. The
//!   reactor keeps one for all its sockets; a queue keeps one of its own.
//! - [`List`] is two indices (head and tail) into it: one list per thing
//!   and direction. An empty list costs eight bytes and no allocation.
//!
//! Nodes are linked both ways, so every operation is O(1): join the back,
//! take the front, and leave from anywhere.
//!
//! # Who frees a node
//!
//! A node is freed only by the future that owns it (with [`Waiters::remove`],
//! when it finishes or is dropped). The side that wakes only *unlinks* the
//! node ([`Waiters::take_front`]): the node stays in the slab, marked woken,
//! and may carry a value to its owner (a queue hands an item over this
//! way). So a cancelled wait frees its node at once, and a woken node can
//! never be freed under its owner's feet. A [`WaiterKey`] carries a ticket,
//! so a stale key (its node freed, the slot reused) is recognised, never
//! confused with the new node.
//!
//! # Wake outside the borrow
//!
//! Waking a waker runs code we do not control, and so may dropping one. So
//! nothing here wakes: `take_front` *gives* the waker to the caller, who
//! wakes it after releasing its own `RefCell` (or the reactor's). A
//! [`WakeList`] holds a batch of them until then.

use std::task::Waker;

use slab::Slab;

/// No node: the end of a list.
const NIL: u32 = u32::MAX;

// ANCHOR: list
/// One list of waiters: indices of its first and last node in a
/// [`Waiters`] slab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct List {
    head: u32,
    tail: u32,
}

/// A waiter's place, held by the waiting future.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaiterKey {
    index: u32,
    ticket: u32,
}

/// One waiting future.
#[derive(Debug)]
struct Node<T> {
    ticket: u32,
    /// True while the node is in its list (still waiting); false once it
    /// was taken from the front (woken, perhaps given a value).
    linked: bool,
    prev: u32,
    next: u32,
    /// `None` once taken out to be woken.
    waker: Option<Waker>,
    /// What travels with the waiter (a `put`'s item, a `get`'s answer).
    value: T,
}

/// The storage of every node of some lists.
#[derive(Debug)]
pub struct Waiters<T> {
    nodes: Slab<Node<T>>,
    next_ticket: u32,
}
// ANCHOR_END: list

impl List {
    /// An empty list.
    pub const fn new() -> List {
        List {
            head: NIL,
            tail: NIL,
        }
    }

    /// True if nobody waits in this list.
    pub fn is_empty(&self) -> bool {
        self.head == NIL
    }
}

impl Default for List {
    fn default() -> List {
        List::new()
    }
}

impl<T> Default for Waiters<T> {
    fn default() -> Waiters<T> {
        Waiters::new()
    }
}

impl<T> Waiters<T> {
    /// An empty slab; allocates nothing until the first waiter joins.
    pub const fn new() -> Waiters<T> {
        Waiters {
            nodes: Slab::new(),
            next_ticket: 0,
        }
    }

    // ANCHOR: push_back
    /// Adds a waiter at the back of `list`. O(1).
    pub fn push_back(&mut self, list: &mut List, waker: Waker, value: T) -> WaiterKey {
        let ticket = self.next_ticket;
        self.next_ticket = self.next_ticket.wrapping_add(1);
        let index = self.nodes.insert(Node {
            ticket,
            linked: true,
            prev: list.tail,
            next: NIL,
            waker: Some(waker),
            value,
        });
        let index = u32::try_from(index).expect("fewer than 4 billion waiters");
        match list.tail {
            NIL => list.head = index,
            tail => self.nodes[tail as usize].next = index,
        }
        list.tail = index;
        WaiterKey { index, ticket }
    }

    /// Unlinks the oldest waiter of `list` and gives back its key and its
    /// waker, for the caller to wake once its own borrows are released. The
    /// node stays, marked woken, until its owner removes it. O(1).
    pub fn take_front(&mut self, list: &mut List) -> Option<(WaiterKey, Waker)> {
        let index = list.head;
        if index == NIL {
            return None;
        }
        self.unlink(list, index);
        let node = &mut self.nodes[index as usize];
        let key = WaiterKey {
            index,
            ticket: node.ticket,
        };
        let waker = node.waker.take().expect("a linked node holds its waker");
        Some((key, waker))
    }

    /// Frees the waiter's node (unlinking it from `list` if it is still
    /// waiting) and gives back what it held, for the caller to drop after
    /// its borrows are released. `None` for a stale key. O(1).
    pub fn remove(&mut self, list: &mut List, key: WaiterKey) -> Option<Removed<T>> {
        let was_waiting = self.node(key)?.linked;
        if was_waiting {
            self.unlink(list, key.index);
        }
        let node = self.nodes.remove(key.index as usize);
        Some(Removed {
            was_woken: !was_waiting,
            waker: node.waker,
            value: node.value,
        })
    }
    // ANCHOR_END: push_back

    /// True while the waiter is still in its list (not woken yet). False
    /// for a woken waiter and for a stale key.
    pub fn is_waiting(&self, key: WaiterKey) -> bool {
        self.node(key).is_some_and(|node| node.linked)
    }

    /// Gives a still-waiting node the waker of its latest poll, returning
    /// the one it replaces (to be dropped outside the caller's borrow).
    /// Nothing changes when both wake the same task, the usual case.
    pub fn update_waker(&mut self, key: WaiterKey, waker: &Waker) -> Option<Waker> {
        let node = self.node_mut(key)?;
        match &mut node.waker {
            Some(stored) if stored.will_wake(waker) => None,
            Some(stored) => Some(std::mem::replace(stored, waker.clone())),
            None => None,
        }
    }

    /// The value travelling with the waiter.
    pub fn value_mut(&mut self, key: WaiterKey) -> Option<&mut T> {
        self.node_mut(key).map(|node| &mut node.value)
    }

    /// Nodes alive: waiting, or woken and not yet removed by their owner.
    /// A test reads this to check that cancelled waits leave nothing behind.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True if no node is alive.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Frees the memory of a slab that grew for a crowd of waiters that
    /// has since left. Called rarely (the reactor does it when a socket is
    /// deregistered), so a burst's memory goes back to the allocator.
    pub fn shrink(&mut self) {
        if self.nodes.is_empty() && self.nodes.capacity() > 64 {
            self.nodes = Slab::new();
        }
    }

    fn node(&self, key: WaiterKey) -> Option<&Node<T>> {
        self.nodes
            .get(key.index as usize)
            .filter(|node| node.ticket == key.ticket)
    }

    fn node_mut(&mut self, key: WaiterKey) -> Option<&mut Node<T>> {
        self.nodes
            .get_mut(key.index as usize)
            .filter(|node| node.ticket == key.ticket)
    }

    fn unlink(&mut self, list: &mut List, index: u32) {
        let node = &mut self.nodes[index as usize];
        let (prev, next) = (node.prev, node.next);
        node.linked = false;
        node.prev = NIL;
        node.next = NIL;
        match prev {
            NIL => list.head = next,
            prev => self.nodes[prev as usize].next = next,
        }
        match next {
            NIL => list.tail = prev,
            next => self.nodes[next as usize].prev = prev,
        }
    }
}

/// What a removed node held.
#[derive(Debug)]
pub struct Removed<T> {
    /// True if the node had been taken from the front (woken, granted)
    /// before its owner removed it: whatever it was granted must be passed on.
    pub was_woken: bool,
    /// The waker, if the node was still waiting.
    pub waker: Option<Waker>,
    /// The value that travelled with it.
    pub value: T,
}

/// Wakers taken out of wait lists, to be woken after the borrow that took
/// them ends. The first is kept inline, so the usual hand-off (one waiter
/// granted) allocates nothing.
#[derive(Debug, Default)]
pub struct WakeList {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl WakeList {
    /// An empty batch.
    pub const fn new() -> WakeList {
        WakeList {
            first: None,
            rest: Vec::new(),
        }
    }

    /// Adds a waker to wake later.
    pub fn push(&mut self, waker: Waker) {
        if self.first.is_none() {
            self.first = Some(waker);
        } else {
            self.rest.push(waker);
        }
    }

    /// Wakes every waker, in the order they were pushed. Call it with no
    /// borrow of ours held: a waker may run any code.
    pub fn wake_all(self) {
        if let Some(waker) = self.first {
            waker.wake();
        }
        for waker in self.rest {
            waker.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    struct Noop;
    impl std::task::Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }

    fn waker() -> Waker {
        Waker::from(Arc::new(Noop))
    }

    #[test]
    fn fifo_with_removal_from_the_middle() {
        let mut waiters = Waiters::new();
        let mut list = List::new();
        let a = waiters.push_back(&mut list, waker(), 'a');
        let b = waiters.push_back(&mut list, waker(), 'b');
        let c = waiters.push_back(&mut list, waker(), 'c');
        let removed = waiters.remove(&mut list, b).unwrap();
        assert_eq!(removed.value, 'b');
        assert!(!removed.was_woken, "b was still waiting");
        let (first, _) = waiters.take_front(&mut list).unwrap();
        assert_eq!(first, a);
        assert!(!waiters.is_waiting(a));
        assert!(waiters.is_waiting(c));
        let (second, _) = waiters.take_front(&mut list).unwrap();
        assert_eq!(second, c);
        assert!(list.is_empty());
        // Woken nodes stay until their owners remove them.
        assert_eq!(waiters.len(), 2);
        assert!(waiters.remove(&mut list, a).unwrap().was_woken);
        assert!(waiters.remove(&mut list, c).unwrap().was_woken);
        assert!(waiters.is_empty());
    }

    #[test]
    fn a_stale_key_reaches_nothing() {
        let mut waiters = Waiters::new();
        let mut list = List::new();
        let old = waiters.push_back(&mut list, waker(), 1);
        waiters.remove(&mut list, old).unwrap();
        let new = waiters.push_back(&mut list, waker(), 2);
        assert_eq!(old.index, new.index, "the slab reuses the slot");
        assert!(waiters.remove(&mut list, old).is_none());
        assert!(!waiters.is_waiting(old));
        assert!(waiters.is_waiting(new));
    }

    #[test]
    fn cancelled_waiters_behind_a_live_one_leave_nothing() {
        let mut waiters = Waiters::new();
        let mut list = List::new();
        let first = waiters.push_back(&mut list, waker(), ());
        for _ in 0..100_000 {
            let k = waiters.push_back(&mut list, waker(), ());
            waiters.remove(&mut list, k);
        }
        assert_eq!(waiters.len(), 1);
        assert!(waiters.is_waiting(first));
    }
}

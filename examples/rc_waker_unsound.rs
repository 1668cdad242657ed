//! The wakers chapter's warning, compiled: a waker built on `Rc`. It works
//! on one thread, which is all this program does, and it is unsound,
//! because a `Waker` is `Send + Sync` and may be cloned, woken or dropped on
//! any thread, while `Rc` counts with plain, non-atomic reads and writes.
//! `unsafe` is what lets it compile. Do not copy it; read the chapter for
//! why (book/src/wakers.md, "Here is a waker that breaks that promise").
//!
//! `cargo run --example rc_waker_unsound` wakes a task twice on one thread
//! and prints the queue: the one case where this code happens to work.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::mem::ManuallyDrop;
use std::rc::Rc;
use std::task::{RawWaker, RawWakerVTable, Waker};

// ANCHOR: unsound
/// A task of a one-thread runtime that builds its wakers on `Rc`.
struct Task {
    /// The loop's run queue, shared by every task.
    queue: Rc<RefCell<VecDeque<Rc<Task>>>>,
    name: &'static str,
}

static RC_VTABLE: RawWakerVTable = RawWakerVTable::new(rc_clone, rc_wake, rc_wake_by_ref, rc_drop);

unsafe fn rc_clone(data: *const ()) -> RawWaker {
    // SAFETY: claimed, and false: `data` came from `Rc::into_raw`, but a
    // waker may be cloned on any thread, and Rc's count is not atomic.
    let task = ManuallyDrop::new(unsafe { Rc::from_raw(data.cast::<Task>()) });
    // count = count + 1: a plain read, then a plain write
    let copy = Rc::clone(&task);
    RawWaker::new(Rc::into_raw(copy).cast(), &RC_VTABLE)
}

unsafe fn rc_wake_by_ref(data: *const ()) {
    // SAFETY: claimed, and false across threads, as in `rc_clone`.
    let task = ManuallyDrop::new(unsafe { Rc::from_raw(data.cast::<Task>()) });
    let copy = Rc::clone(&task);
    // a RefCell and a VecDeque, with no lock
    task.queue.borrow_mut().push_back(copy);
}

unsafe fn rc_wake(data: *const ()) {
    // SAFETY: claimed, and false across threads, as in `rc_clone`.
    unsafe { rc_wake_by_ref(data) };
    // SAFETY: as above; this gives back the waker's own count.
    unsafe { rc_drop(data) };
}

unsafe fn rc_drop(data: *const ()) {
    // SAFETY: claimed, and false across threads, as in `rc_clone`.
    // count = count - 1, and free the task when it reaches zero
    drop(unsafe { Rc::from_raw(data.cast::<Task>()) });
}
// ANCHOR_END: unsound

fn main() {
    let queue = Rc::new(RefCell::new(VecDeque::new()));
    let task = Rc::new(Task {
        queue: queue.clone(),
        name: "task 1",
    });
    let raw = RawWaker::new(Rc::into_raw(task).cast(), &RC_VTABLE);
    // SAFETY: claimed, and true only because this program never lets the
    // waker leave this thread; the type system cannot hold us to that.
    let waker = unsafe { Waker::from_raw(raw) };
    waker.wake_by_ref(); // through rc_wake_by_ref
    let clone = waker.clone(); // through rc_clone
    drop(waker); // through rc_drop
    clone.wake(); // through rc_wake
    let names: Vec<&str> = queue.borrow().iter().map(|t| t.name).collect();
    println!("queued after two wakes, on one thread: {names:?}");
    println!("(on two threads, the same code can leak or free the task twice)");
}

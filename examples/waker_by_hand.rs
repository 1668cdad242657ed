//! A `Waker` built by hand from a `RawWakerVTable`, then the same waker
//! built by futures-task's `ArcWake`. Chapter "Wakers" of the book walks
//! through this file.
//!
//! Run it from the repository root:
//!
//! ```text
//! cargo run --example waker_by_hand
//! ```
//!
//! It prints, after each step, how many times the waker was cloned, woken
//! and dropped, and how many wakers are alive, so you can watch the
//! reference count that a `Waker` hides.

// The workspace already sets these; they are repeated here so a reader of
// this file sees them. Every unsafe operation sits in its own `unsafe` block,
// even inside an `unsafe fn`, and every `unsafe` block says why it is sound.
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
use std::thread;

use futures_task::{waker_ref, ArcWake};

// ANCHOR: tally
/// What our wakers point to. A real runtime puts its task here; we put
/// counters, so we can see every call the `Waker` makes through its table.
/// The counters are atomics because a `Waker` may be used from any thread.
#[derive(Default)]
struct Tally {
    clones: AtomicUsize,
    wakes: AtomicUsize,
    drops: AtomicUsize,
}

impl Tally {
    fn report(self: &Arc<Tally>, step: &str) {
        // One strong count is `main`'s own `Arc`; every other one is a waker.
        let alive = Arc::strong_count(self) - 1;
        println!(
            "{step:<41} clones={} wakes={} drops={} alive={alive}",
            self.clones.load(Ordering::Relaxed),
            self.wakes.load(Ordering::Relaxed),
            self.drops.load(Ordering::Relaxed),
        );
    }
}
// ANCHOR_END: tally

// ANCHOR: vtable
/// The four functions every `Waker` is made of. The data pointer they get is
/// always one that `Arc::<Tally>::into_raw` returned, and each `RawWaker`
/// owns one strong count of that `Arc`: that is the invariant every `unsafe`
/// block below relies on.
static VTABLE: RawWakerVTable = RawWakerVTable::new(clone_raw, wake_raw, wake_by_ref_raw, drop_raw);

/// Turns an `Arc<Tally>` into a `Waker`, moving the `Arc`'s count into it.
fn tally_waker(tally: Arc<Tally>) -> Waker {
    let data = Arc::into_raw(tally).cast::<()>();
    // A `Waker` is `Send + Sync`, so this is sound only because `Tally` is
    // too (atomics only), and `Arc` counts with atomics.
    // SAFETY: `data` comes from `Arc::into_raw` and carries one strong count,
    // which the new waker now owns: the invariant of VTABLE's functions.
    unsafe { Waker::from_raw(RawWaker::new(data, &VTABLE)) }
}

/// `waker.clone()`: one more owner, so one more strong count.
///
/// # Safety
///
/// `data` is from `Arc::<Tally>::into_raw`, and the waker being cloned still
/// owns its count (it is alive: we were handed `&Waker`).
unsafe fn clone_raw(data: *const ()) -> RawWaker {
    // SAFETY: by this function's contract `data` is an `Arc<Tally>` pointer
    // whose count the caller's waker owns. `ManuallyDrop` makes sure we only
    // borrow that count, never give it up: the caller's waker keeps it.
    let tally = ManuallyDrop::new(unsafe { Arc::from_raw(data.cast::<Tally>()) });
    tally.clones.fetch_add(1, Ordering::Relaxed);
    let copy: Arc<Tally> = Arc::clone(&tally);
    RawWaker::new(Arc::into_raw(copy).cast::<()>(), &VTABLE)
}

/// `waker.wake()`: wakes, and consumes the waker, so its count goes too.
///
/// # Safety
///
/// `data` is from `Arc::<Tally>::into_raw`, and its count is ours to release:
/// `wake` takes the waker by value, and std will not call `drop_raw` for it.
unsafe fn wake_raw(data: *const ()) {
    // SAFETY: by this function's contract we own the waker's strong count;
    // `from_raw` takes it back into an `Arc`, dropped at the end of this
    // function, exactly once.
    let tally = unsafe { Arc::from_raw(data.cast::<Tally>()) };
    tally.wakes.fetch_add(1, Ordering::Relaxed);
    tally.drops.fetch_add(1, Ordering::Relaxed);
}

/// `waker.wake_by_ref()`: wakes, and the waker stays as it was.
///
/// # Safety
///
/// `data` is from `Arc::<Tally>::into_raw` and its waker is alive.
unsafe fn wake_by_ref_raw(data: *const ()) {
    // SAFETY: by this function's contract the pointee is alive, kept so by
    // the waker's count for as long as we run; we only read through it.
    let tally = unsafe { &*data.cast::<Tally>() };
    tally.wakes.fetch_add(1, Ordering::Relaxed);
}

/// `drop(waker)`: gives the waker's count back.
///
/// # Safety
///
/// `data` is from `Arc::<Tally>::into_raw`, its count is owned by the waker
/// being dropped, and std calls this once per waker.
unsafe fn drop_raw(data: *const ()) {
    // SAFETY: by this function's contract the count is ours to release, once:
    // rebuilding the `Arc` and dropping it does exactly that.
    let tally = unsafe { Arc::from_raw(data.cast::<Tally>()) };
    tally.drops.fetch_add(1, Ordering::Relaxed);
}
// ANCHOR_END: vtable

// ANCHOR: flag
/// A future that waits for a flag another thread sets: the smallest
/// "something else will wake me" future. It keeps the waker of its latest
/// poll, as futures that wait on the outside world do.
struct WaitForFlag {
    shared: Arc<FlagState>,
}

struct FlagState {
    set: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Future for WaitForFlag {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut slot = self.shared.waker.lock().unwrap();
        if self.shared.set.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        // Clone only when the stored waker would not wake the same task:
        // polled again with the same waker, we make no clone at all.
        match &*slot {
            Some(old) if old.will_wake(cx.waker()) => {}
            _ => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}
// ANCHOR_END: flag

// ANCHOR: arc_wake
/// The same counters, with futures-task writing the vtable for us. We give
/// only `wake_by_ref`; clone and drop are the `Arc`'s own, so there is no
/// place to count them, and `report` shows them as zero.
impl ArcWake for Tally {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        arc_self.wakes.fetch_add(1, Ordering::Relaxed);
    }
}
// ANCHOR_END: arc_wake

fn by_hand() {
    println!("== A waker from a RawWakerVTable");
    let tally = Arc::new(Tally::default());
    tally.report("made a Tally, no waker yet");

    let waker = tally_waker(Arc::clone(&tally));
    tally.report("made a waker from it");

    let copy = waker.clone();
    tally.report("cloned the waker");

    copy.wake_by_ref();
    tally.report("copy.wake_by_ref()");

    copy.wake();
    tally.report("copy.wake() (consumes the copy)");

    let for_thread = waker.clone();
    thread::spawn(move || for_thread.wake()).join().unwrap();
    tally.report("a clone sent to a thread and woken there");

    // A future that stores the waker, and a thread that sets its flag.
    let state = Arc::new(FlagState {
        set: AtomicBool::new(false),
        waker: Mutex::new(None),
    });
    let mut future = pin!(WaitForFlag {
        shared: Arc::clone(&state),
    });
    let mut cx = Context::from_waker(&waker);
    assert!(future.as_mut().poll(&mut cx).is_pending());
    tally.report("polled WaitForFlag: it kept a clone");
    assert!(future.as_mut().poll(&mut cx).is_pending());
    tally.report("polled it again: will_wake, no new clone");

    let setter = Arc::clone(&state);
    thread::spawn(move || {
        setter.set.store(true, Ordering::Release);
        let stored = setter.waker.lock().unwrap().take();
        if let Some(waker) = stored {
            waker.wake();
        }
    })
    .join()
    .unwrap();
    tally.report("a thread set the flag and woke the waker");
    assert!(future.as_mut().poll(&mut cx).is_ready());
    tally.report("polled again: Ready");

    drop(waker);
    tally.report("dropped the first waker");
    assert_eq!(
        Arc::strong_count(&tally),
        1,
        "every waker gave its count back"
    );
    println!();
}

fn with_arc_wake() {
    println!("== The same with futures-task's ArcWake");
    let tally = Arc::new(Tally::default());
    tally.report("made a Tally, no waker yet");

    {
        // `waker_ref` lends the `Arc` as a `&Waker` without touching its count:
        // this is how the runtime polls a task (task.rs, `run`).
        let lent = waker_ref(&tally);
        tally.report("waker_ref(&tally): a borrowed waker");
        lent.wake_by_ref();
        tally.report("lent.wake_by_ref()");
        let owned: Waker = (*lent).clone();
        tally.report("cloned it into an owned Waker");
        owned.wake();
        tally.report("owned.wake() (consumes it)");
    }

    let waker = futures_task::waker(Arc::clone(&tally));
    tally.report("futures_task::waker(arc): an owned Waker");
    drop(waker);
    tally.report("dropped it");
    assert_eq!(
        Arc::strong_count(&tally),
        1,
        "every waker gave its count back"
    );
}

fn main() {
    by_hand();
    with_arc_wake();
}

//! Counted costs: a spawn is one allocation; a wake and a poll are none.
//!
//! A counting global allocator sees every allocation in the process, so this
//! binary holds a single test and warms up first: the task table and the run
//! queue grow to their working size once (amortised), and the count is taken
//! over a second, identical round.

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::poll_fn;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

use runtime::{block_on, spawn, yield_now, JoinHandle};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator, which
// upholds GlobalAlloc's contract; we only count.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded with the caller's layout, as GlobalAlloc requires.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.load(Ordering::Relaxed)
}

const N: usize = 10_000;

#[test]
fn spawn_allocates_once_and_wake_and_poll_allocate_nothing() {
    block_on(async {
        let mut handles: Vec<JoinHandle<()>> = Vec::with_capacity(N);

        // Spawn: warm up the task table and run queue, then count.
        let mut per_spawn = 0;
        for round in 0..2 {
            let before = allocations();
            for _ in 0..N {
                handles.push(spawn(async {}));
            }
            let spawned = allocations() - before;
            for handle in handles.drain(..) {
                handle.await.unwrap();
            }
            if round == 1 {
                per_spawn = spawned;
            }
        }
        assert_eq!(
            per_spawn, N,
            "{per_spawn} allocations for {N} spawns: not 1 each"
        );

        // Local wake and poll: a task yielding N times is N wakes and N polls.
        let yielder = spawn(async {
            for _ in 0..N {
                yield_now().await;
            }
        });
        yield_now().await; // let it start
        let before = allocations();
        yielder.await.unwrap();
        let local = allocations() - before;
        assert_eq!(
            local, 0,
            "{local} allocations for {N} local wakes and polls"
        );

        // Cross-thread wake: a plain thread wakes a task N times. The
        // injection queue is warmed up by the first round.
        for round in 0..2 {
            let slot: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
            let count = Arc::new(AtomicUsize::new(0));
            let task = {
                let (slot, count) = (slot.clone(), count.clone());
                spawn(poll_fn(move |cx| {
                    let mut slot = slot.lock().unwrap();
                    match &*slot {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        _ => *slot = Some(cx.waker().clone()),
                    }
                    if count.load(Ordering::Acquire) >= N {
                        Poll::Ready(())
                    } else {
                        Poll::Pending
                    }
                }))
            };
            yield_now().await;
            let thread = std::thread::spawn(move || {
                let waker = slot.lock().unwrap().clone().unwrap();
                let before = allocations();
                for _ in 0..N {
                    count.fetch_add(1, Ordering::Release);
                    waker.wake_by_ref();
                }
                allocations() - before
            });
            task.await.unwrap();
            let remote = thread.join().unwrap();
            if round == 1 {
                assert_eq!(remote, 0, "{remote} allocations for {N} cross-thread wakes");
            }
        }

        racing_allocates_nothing_per_poll_or_item().await;
    });

    // Context variables: values were set on this thread (in one loop), but
    // a spawner that has none pays nothing: still one allocation a spawn.
    runtime::context_var! { static TAG: u32 = 0; }
    block_on(async { TAG.set(1) });
    block_on(async {
        let mut handles: Vec<JoinHandle<()>> = Vec::with_capacity(N);
        let mut per_spawn = 0;
        for round in 0..2 {
            let before = allocations();
            for _ in 0..N {
                handles.push(spawn(async {}));
            }
            if round == 1 {
                per_spawn = allocations() - before;
            }
            for handle in handles.drain(..) {
                handle.await.unwrap();
            }
        }
        assert_eq!(
            per_spawn, N,
            "{per_spawn} allocations for {N} spawns with context vars in use"
        );
    });
}

/// `race` allocates nothing at all; `as_completed` and `generate` allocate
/// only when they start, nothing per poll or per item.
async fn racing_allocates_nothing_per_poll_or_item() {
    let before = allocations();
    for _ in 0..N {
        let won = runtime::race(yield_now(), async { 1 }).await;
        assert_eq!(won, runtime::Either::Right(1));
    }
    let racing = allocations() - before;
    assert_eq!(racing, 0, "{racing} allocations for {N} races");

    use runtime::stream::StreamExt;
    let children = (0..N).map(|i| async move {
        yield_now().await; // each is polled twice: Pending, then Ready
        i
    });
    let mut done = runtime::as_completed(children);
    let first = done.next().await; // the first poll of every child, and one output
    assert!(first.is_some());
    let before = allocations();
    let mut got = 1;
    while done.next().await.is_some() {
        got += 1;
    }
    let per_item = allocations() - before;
    assert_eq!(got, N);
    assert_eq!(
        per_item, 0,
        "{per_item} allocations for {N} outputs of as_completed"
    );

    // A generator: allocated once when made, nothing per item.
    let mut numbers = runtime::stream::generate(|mut y| async move {
        for n in 0..N {
            y.yield_(n).await;
        }
    });
    assert_eq!(numbers.next().await, Some(0));
    let before = allocations();
    let mut count = 1;
    while numbers.next().await.is_some() {
        count += 1;
    }
    let per_item = allocations() - before;
    assert_eq!(count, N);
    assert_eq!(
        per_item, 0,
        "{per_item} allocations for {N} items of a generator"
    );
}

//! A crawler in a task group: asyncio 3.11's
//! `async with asyncio.TaskGroup() as tg: tg.create_task(fetch(url))`.
//!
//! Ten pages are fetched at once, each by its own task in one `TaskGroup`.
//! One of them fails. `try_join_all` returns that failure, and by then every
//! page still being fetched has been cancelled: the program counts how many
//! fetches finished, failed and were cancelled (a cancelled fetch is one
//! whose future was dropped before it finished, which a guard notices).
//!
//! Run it with `cargo run --example task_group`.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use runtime::time::sleep;
use runtime::{GroupError, TaskGroup};

/// Notices a fetch that was dropped before it finished.
struct CancelledIfDropped {
    done: bool,
    cancelled: Rc<Cell<u32>>,
}

impl Drop for CancelledIfDropped {
    fn drop(&mut self) {
        if !self.done {
            self.cancelled.set(self.cancelled.get() + 1);
        }
    }
}

/// "Fetches" page `n`: waits as long as the page takes, and fails for the
/// page that does not exist.
async fn fetch(n: u64, cancelled: Rc<Cell<u32>>) -> Result<String, String> {
    let mut guard = CancelledIfDropped {
        done: false,
        cancelled,
    };
    sleep(Duration::from_millis(5 + n * 7)).await;
    guard.done = true;
    if n == 4 {
        return Err(format!("page {n}: 404 not found"));
    }
    Ok(format!("page {n}: 200 OK"))
}

fn main() {
    runtime::block_on(async {
        let cancelled = Rc::new(Cell::new(0));
        let mut group = TaskGroup::new();
        for n in 0..10 {
            group.spawn(fetch(n, cancelled.clone()));
        }
        let start = Instant::now();
        match group.try_join_all().await {
            Ok(pages) => println!("all {} pages fetched", pages.len()),
            Err(GroupError::Failed(e)) => {
                println!("the group failed after {:.0?}: {e}", start.elapsed())
            }
            Err(GroupError::Panicked(e)) => println!("a fetch panicked: {e}"),
        }
        println!(
            "{} fetches were still running and were cancelled before try_join_all returned",
            cancelled.get()
        );
    });
}

//! Exploring schedules (cargo feature `explore`): run the ready tasks of a
//! loop in an order a seed chooses, so that a bug which depends on that
//! order shows on demand, and a failing seed replays the same run.
//!
//! A single-threaded loop has one source of nondeterminism user code can
//! trip over: which ready task runs next. looplet's loop takes them first
//! in, first out, like asyncio's; a program that is only correct in that
//! order passes every test and fails the day the order changes. With a
//! seed, the loop's one choice point (`choose.rs`) picks instead, and
//! [`check`] runs a test under many seeds.
//!
//! ```
//! use std::cell::RefCell;
//! use std::rc::Rc;
//!
//! // Two tasks write their names; which goes first is the seed's choice.
//! let order_of = |seed| {
//!     let rt = runtime::Builder::new().explore_seed(seed).build().unwrap();
//!     rt.block_on(async {
//!         assert_eq!(runtime::explore::seed(), Some(seed));
//!         let log = Rc::new(RefCell::new(Vec::new()));
//!         let a = runtime::spawn({ let log = log.clone(); async move { log.borrow_mut().push('a') } });
//!         let b = runtime::spawn({ let log = log.clone(); async move { log.borrow_mut().push('b') } });
//!         let (_, _) = (a.await, b.await);
//!         log.take()
//!     })
//! };
//! assert_eq!(order_of(37), order_of(37)); // a seed replays its order
//! ```

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};

use crate::builder::Builder;
use crate::choose::Chooser;

/// The seed of the loop running on this thread, if it explores (it was
/// built with `Builder::explore_seed`); `None` otherwise, and outside a loop.
pub fn seed() -> Option<u64> {
    crate::executor::explore_seed()
}

// ANCHOR: check
/// Runs `test` on a fresh paused loop (see `Builder::start_paused`) for
/// each of `runs` seeds (0, 1, 2, ...), ready tasks in an order each seed
/// chooses, and panics at the first seed whose run fails, naming the seed,
/// how many scheduling choices the run made, and a command that replays it.
///
/// `LOOPLET_SEEDS=n` runs `n` seeds instead of `runs`; `LOOPLET_SEED=s`
/// runs seed `s` alone (the replay). Before it reports a failure, `check`
/// runs the failing seed once more: if the second run makes different
/// choices, the test depends on something besides the seed (the real
/// clock, real randomness, another thread), and the message says at which
/// choice the two runs parted.
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// // Passes under every order: the two tasks only add.
/// runtime::explore::check(20, || async {
///     let total = Rc::new(Cell::new(0));
///     let tasks: Vec<_> = (1..=2)
///         .map(|n| {
///             let total = total.clone();
///             runtime::spawn(async move { total.set(total.get() + n) })
///         })
///         .collect();
///     for task in tasks {
///         task.await.unwrap();
///     }
///     assert_eq!(total.get(), 3);
/// });
/// ```
#[track_caller]
pub fn check<F, Fut>(runs: usize, test: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    explore(runs, &Chooser::new, &test);
}

/// [`check`] with PCT instead of a uniform shuffle: each task gets a random
/// priority and the highest-priority ready task runs, except at `depth - 1`
/// random change points where the running task drops below the others
/// (see `choose.rs`). A bug that needs `depth` orderings to line up is found
/// in one run with probability at least 1/(n k^(depth-1)) for n tasks and k
/// steps; some that a uniform shuffle almost never hits (one task running
/// many steps before another's first) PCT finds in a few runs.
///
/// The number of steps among which the change points fall is counted once,
/// by a first run of the test (uniform, seed `u64::MAX`), so a replay with
/// `LOOPLET_SEED` places them the same way.
#[track_caller]
pub fn check_pct<F, Fut>(runs: usize, depth: usize, test: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    let depth = u32::try_from(depth.max(1)).unwrap_or(u32::MAX);
    let steps = match run_seed(&Chooser::new(u64::MAX), &test) {
        Ok(picks) | Err(Failure { picks, .. }) => picks.len().max(1) as u64,
    };
    explore(runs, &|seed| Chooser::pct(seed, depth, steps), &test);
}
// ANCHOR_END: check

/// The loop of [`check`] and [`check_pct`]: one run per seed, each on a
/// fresh paused loop with the chooser `chooser_for(seed)` makes.
#[track_caller]
fn explore<F, Fut>(runs: usize, chooser_for: &dyn Fn(u64) -> Chooser, test: &F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    for seed in seeds(runs) {
        let chooser = chooser_for(seed);
        let Err(failure) = run_seed(&chooser, test) else {
            continue;
        };
        let again = run_seed(&chooser, test);
        let replay = replay_line(seed);
        let how = chooser
            .depth()
            .map_or(String::new(), |depth| format!(" (PCT, depth {depth})"));
        let message = match &again {
            Err(second) if second.picks == failure.picks => format!(
                "explore::check: the test failed with seed {seed}{how}, after {} scheduling \
                 choices: {}\nreplay it: {replay}\n(add LOOPLET_TRACE=1 to watch each poll)\n{}",
                failure.picks.len(),
                failure.message,
                shrink(seed, &failure.picks, test),
            ),
            _ => {
                let second = match &again {
                    Ok(picks) | Err(Failure { picks, .. }) => picks,
                };
                format!(
                    "explore::check: the test failed with seed {seed}{how} ({}), but a second \
                     run of that seed {}: the test depends on something the seed does not \
                     choose (the real clock, real randomness, another thread), so its \
                     failure cannot be replayed. The runs parted at scheduling choice {}.",
                    failure.message,
                    if again.is_ok() {
                        "passed"
                    } else {
                        "failed differently"
                    },
                    first_difference(&failure.picks, second),
                )
            }
        };
        panic!("{message}");
    }
}

// ANCHOR: shrink
/// Shrinks a failing run: resets its choices to first in, first out one at
/// a time (greedily, front to back), keeping each reset while the test
/// still fails. What is left is how many choices the failure needs to go
/// against the ordinary order: the bug's depth, as far as this finds it.
fn shrink<F, Fut>(seed: u64, picks: &[(u32, u32)], test: &F) -> String
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut indices: Vec<u32> = picks.iter().map(|&(index, _)| index).collect();
    for at in 0..indices.len() {
        if indices[at] == 0 {
            continue;
        }
        let mut tried = indices.clone();
        tried[at] = 0;
        if run_seed(&Chooser::replay(seed, tried.clone()), test).is_err() {
            indices = tried;
        }
    }
    let against = indices.iter().filter(|&&index| index != 0).count();
    format!(
        "shrunk: it still fails with {against} of its {} choices going against first in, \
         first out (the rest reset to the oldest ready task)",
        indices.len()
    )
}
// ANCHOR_END: shrink

/// A failed run: the panic's message, and the choices made until then.
struct Failure {
    message: String,
    picks: Vec<(u32, u32)>,
}

/// The seeds to run: `LOOPLET_SEED` alone, or `LOOPLET_SEEDS` (or `runs`)
/// of them from 0.
fn seeds(runs: usize) -> Vec<u64> {
    let number = |name: &str| {
        let text = std::env::var(name).ok()?;
        match text.trim().parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => {
                panic!("{name}={text:?} is not a number: give a whole number, such as {name}=37")
            }
        }
    };
    if let Some(seed) = number("LOOPLET_SEED") {
        return vec![seed];
    }
    let runs = number("LOOPLET_SEEDS").map_or(runs as u64, |n| n);
    (0..runs).collect()
}

/// One run of `test` on a fresh paused loop that `chooser` schedules: its
/// choices if it passed, or how it failed.
fn run_seed<F, Fut>(chooser: &Chooser, test: &F) -> Result<Vec<(u32, u32)>, Failure>
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    let runtime = Builder::new()
        .start_paused(true)
        .build()
        .expect("explore::check could not make a loop");
    runtime.explore(chooser.clone());
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| runtime.block_on(test())));
    let picks = runtime
        .explored()
        .map(|(_, picks)| picks)
        .unwrap_or_default();
    match outcome {
        Ok(()) => Ok(picks),
        Err(payload) => {
            let message = crate::contain::message(payload.as_ref()).to_string();
            crate::contain::drop_payload(payload);
            Err(Failure { message, picks })
        }
    }
}

/// The command that replays `seed`: the test harness names each test's
/// thread after the test.
fn replay_line(seed: u64) -> String {
    let name = std::thread::current()
        .name()
        .filter(|name| *name != "main")
        .map_or("<the test's name>".to_string(), str::to_string);
    format!("LOOPLET_SEED={seed} cargo test {name}")
}

/// The number (from 1) of the first choice where two runs differ.
fn first_difference(a: &[(u32, u32)], b: &[(u32, u32)]) -> usize {
    let same = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    same + 1
}

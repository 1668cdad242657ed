//! The one choice a single-threaded loop makes that user code can trip
//! over: which ready task runs next. Built only with the cargo feature
//! `explore` (see `explore.rs` for the user's side).
//!
//! Without the feature the loop takes the oldest ready task, first in,
//! first out, as asyncio's `_ready.popleft()` does. A program whose
//! correctness depends on that order passes every test on a FIFO loop and
//! fails the day the order changes. With a seed, the loop asks a
//! [`Chooser`] instead, and the order follows the seed: a different order
//! for each seed, the same order every time for one seed.
//!
//! Everything else the loop does in order already: timers fire in
//! (deadline, creation) order, wakes from other threads in arrival order.
//! So the seed is the only thing that varies from run to run.

/// SplitMix64 (Steele, Lea and Flood, 2014): a tiny, fast generator with
/// good statistics. Ours, not a crate's, because a seed must give the same
/// order in every version of looplet: a failing seed in a bug report has
/// to replay next year too.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0). The modulo's bias is below 2^-40 for any
    /// queue a loop holds, far below anything a test could see.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Picks the next ready task for a loop that explores, and remembers what
/// it picked, so a run can be named (by its seed) and checked (by its
/// choices).
#[derive(Debug, Clone)]
pub(crate) struct Chooser {
    seed: u64,
    rng: SplitMix64,
    strategy: Strategy,
    /// Every choice made among two or more ready tasks, as (index, how many
    /// were ready), in order: two runs of one seed that made the same
    /// choices have the same list, and where they part is where something
    /// else than the seed (real time, real randomness) changed the run.
    picks: Vec<(u32, u32)>,
}

#[derive(Debug, Clone)]
enum Strategy {
    /// Any ready task, each as likely as the others.
    Uniform,
    /// Probabilistic concurrency testing (see [`Pct`]).
    Pct(Pct),
    /// The choices of an earlier run, as indices, one per choice; past
    /// their end (or where one no longer fits), first in, first out. How a
    /// failure is shrunk (see `explore.rs`).
    Replay(Vec<u32>),
}

// ANCHOR: pct
/// PCT (Burckhardt, Kothari, Musuvathi and Nagarakatte, ASPLOS 2010): each
/// task gets a random priority when first seen, and the highest-priority
/// ready task always runs. At `depth - 1` change points, chosen at random
/// among the first `steps` choices, the task that runs is dropped below
/// every other. A bug that needs `depth` ordering constraints to line up is
/// found in one run with probability at least 1/(n k^(depth-1)), for n tasks
/// and k steps, where a uniform shuffle can need exponentially many.
///
/// Strict priorities would let a task that spins (wakes itself until
/// another task acts) run for ever: after [`SPIN_LIMIT`] picks in a row of
/// the same task while others wait, it is dropped below them too.
#[derive(Debug, Clone)]
struct Pct {
    depth: u32,
    /// Task id to priority; higher runs first.
    priority: std::collections::HashMap<u64, u64>,
    /// Decision numbers at which the running task is dropped, in order.
    change_points: Vec<u64>,
    /// Decisions so far (every pop, whether or not there was a choice).
    steps: u64,
    /// The next priority for a dropped task: below all the others.
    next_low: u64,
    /// The last task picked, and how many times in a row.
    streak: (u64, u32),
}

/// Picks in a row of one task, with others ready, before PCT drops it.
const SPIN_LIMIT: u32 = 64;

/// Every initial priority is above this, so dropped tasks (given numbers
/// counting down from here) sit below all of them.
const LOW: u64 = 1 << 32;

impl Pct {
    fn new(depth: u32, steps: u64, rng: &mut SplitMix64) -> Pct {
        let mut change_points: Vec<u64> = (1..depth.max(1))
            .map(|_| 1 + rng.next_u64() % steps.max(1))
            .collect();
        change_points.sort_unstable();
        Pct {
            depth,
            priority: std::collections::HashMap::new(),
            change_points,
            steps: 0,
            next_low: LOW,
            streak: (0, 0),
        }
    }

    fn pick(&mut self, rng: &mut SplitMix64, ready: usize, id_of: &dyn Fn(usize) -> u64) -> usize {
        self.steps += 1;
        let mut best = 0;
        let mut best_priority = 0;
        for index in 0..ready {
            let id = id_of(index);
            let priority = *self
                .priority
                .entry(id)
                .or_insert_with(|| LOW + 1 + (rng.next_u64() >> 2));
            if index == 0 || priority > best_priority {
                (best, best_priority) = (index, priority);
            }
        }
        let id = id_of(best);
        self.streak = if self.streak.0 == id {
            (id, self.streak.1 + 1)
        } else {
            (id, 1)
        };
        let spinning = self.streak.1 > SPIN_LIMIT && ready > 1;
        if spinning || self.change_points.first() == Some(&self.steps) {
            if !spinning {
                self.change_points.remove(0);
            }
            self.next_low -= 1;
            self.priority.insert(id, self.next_low);
            self.streak = (id, 0);
        }
        best
    }
}
// ANCHOR_END: pct

impl Chooser {
    /// Uniform choices, from `seed`.
    pub(crate) fn new(seed: u64) -> Chooser {
        Chooser {
            seed,
            rng: SplitMix64::new(seed),
            strategy: Strategy::Uniform,
            picks: Vec::new(),
        }
    }

    /// PCT choices of the given `depth`, with change points among the
    /// first `steps` decisions, from `seed`.
    pub(crate) fn pct(seed: u64, depth: u32, steps: u64) -> Chooser {
        let mut rng = SplitMix64::new(seed);
        let pct = Pct::new(depth, steps, &mut rng);
        Chooser {
            seed,
            rng,
            strategy: Strategy::Pct(pct),
            picks: Vec::new(),
        }
    }

    /// Replays `indices`, one per choice, first in, first out after them.
    pub(crate) fn replay(seed: u64, indices: Vec<u32>) -> Chooser {
        Chooser {
            seed,
            rng: SplitMix64::new(seed),
            strategy: Strategy::Replay(indices),
            picks: Vec::new(),
        }
    }

    /// Which of `ready` waiting tasks runs next: an index from the front.
    /// `id_of(i)` is the id of the task at index `i`.
    pub(crate) fn pick(&mut self, ready: usize, id_of: &dyn Fn(usize) -> u64) -> usize {
        let index = match &mut self.strategy {
            _ if ready == 0 => return 0, // nothing to pick: the pop finds none
            Strategy::Uniform if ready < 2 => return 0, // no choice to make
            Strategy::Uniform => self.rng.below(ready),
            Strategy::Pct(pct) => pct.pick(&mut self.rng, ready, id_of),
            Strategy::Replay(_) if ready < 2 => return 0,
            Strategy::Replay(indices) => {
                let at = self.picks.len();
                indices
                    .get(at)
                    .map(|&i| i as usize)
                    .filter(|&i| i < ready)
                    .unwrap_or(0)
            }
        };
        if ready > 1 {
            let saturated = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
            self.picks.push((saturated(index), saturated(ready)));
        }
        index
    }

    pub(crate) fn seed(&self) -> u64 {
        self.seed
    }

    /// The PCT depth, if this chooser uses PCT.
    pub(crate) fn depth(&self) -> Option<u32> {
        match &self.strategy {
            Strategy::Uniform | Strategy::Replay(_) => None,
            Strategy::Pct(pct) => Some(pct.depth),
        }
    }

    /// The choices so far, in order.
    pub(crate) fn picks(&self) -> &[(u32, u32)] {
        &self.picks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_seed_gives_one_sequence_and_seeds_differ() {
        let run = |seed| {
            let mut chooser = Chooser::new(seed);
            (0..100)
                .map(|_| chooser.pick(7, &|i| i as u64))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(37), run(37));
        assert_ne!(run(37), run(38));
        assert!(run(37).iter().all(|&i| i < 7));
    }

    #[test]
    fn the_generator_is_splitmix64_as_published() {
        // The first outputs for seed 0, as every SplitMix64 gives them: a
        // change here would change every recorded seed's order.
        let mut rng = SplitMix64::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn one_ready_task_is_no_decision() {
        let mut chooser = Chooser::new(1);
        assert_eq!(chooser.pick(1, &|_| 1), 0);
        assert!(chooser.picks().is_empty());
    }

    #[test]
    fn pct_runs_the_highest_priority_task_until_a_change_point() {
        // Depth 1: no change point; the same task wins every time it is
        // ready, until it has spun SPIN_LIMIT times with others waiting.
        let mut chooser = Chooser::pct(3, 1, 100);
        let first = chooser.pick(3, &|i| 10 + i as u64);
        let winner = 10 + first as u64;
        for _ in 1..SPIN_LIMIT {
            let index = chooser.pick(3, &|i| 10 + i as u64);
            assert_eq!(10 + index as u64, winner);
        }
        // Spinning too long: dropped below the others.
        let _ = chooser.pick(3, &|i| 10 + i as u64);
        let after = chooser.pick(3, &|i| 10 + i as u64);
        assert_ne!(10 + after as u64, winner);
    }
}

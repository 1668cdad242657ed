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
    /// Every choice made among two or more ready tasks, as (index, how many
    /// were ready), in order: two runs of one seed that made the same
    /// choices have the same list, and where they part is where something
    /// else than the seed (real time, real randomness) changed the run.
    picks: Vec<(u32, u32)>,
}

impl Chooser {
    pub(crate) fn new(seed: u64) -> Chooser {
        Chooser {
            seed,
            rng: SplitMix64::new(seed),
            picks: Vec::new(),
        }
    }

    /// Which of `ready` waiting tasks runs next: an index from the front.
    pub(crate) fn pick(&mut self, ready: usize) -> usize {
        if ready < 2 {
            return 0; // no choice to make
        }
        let index = self.rng.below(ready);
        let saturated = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        self.picks.push((saturated(index), saturated(ready)));
        index
    }

    pub(crate) fn seed(&self) -> u64 {
        self.seed
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
            (0..100).map(|_| chooser.pick(7)).collect::<Vec<_>>()
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
        assert_eq!(chooser.pick(1), 0);
        assert!(chooser.picks().is_empty());
    }
}

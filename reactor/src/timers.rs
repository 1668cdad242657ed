//! The timer store: deadlines and the wakers waiting for them.
//!
//! An event loop never "waits for a timer" as such. It keeps every deadline
//! in order, and when it is about to sleep in the OS poll it passes the
//! nearest one as the poll's timeout. When the poll returns, for an event or
//! because the timeout ran out, the loop wakes every timer whose deadline has
//! passed.
//!
//! The store is a `BTreeMap` ordered by `(deadline, sequence number)`:
//! insert, cancel and "pop the earliest" are O(log n), the nearest deadline
//! is the first key, and the sequence number keeps two timers with the same
//! deadline apart (and fires them in the order they were made). Timer wheels
//! (tokio's choice) make insert and cancel O(1) at the cost of rounding
//! deadlines to a tick; at 100,000 timers, log n is 17 steps, and a reader
//! can see the whole structure at once.

use std::collections::BTreeMap;
use std::task::Waker;
use std::time::{Duration, Instant};

/// Names one timer in the store; given back by [`Timers::insert`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerKey {
    deadline: Instant,
    seq: u64,
}

impl TimerKey {
    /// When this timer fires.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }
}

/// Every pending timer of one loop, earliest first.
#[derive(Debug, Default)]
pub struct Timers {
    pending: BTreeMap<TimerKey, Waker>,
    next_seq: u64,
}

impl Timers {
    /// An empty store.
    pub fn new() -> Timers {
        Timers::default()
    }

    // ANCHOR: timers
    /// Adds a timer that wakes `waker` at `deadline`. O(log n).
    pub fn insert(&mut self, deadline: Instant, waker: Waker) -> TimerKey {
        let key = TimerKey {
            deadline,
            seq: self.next_seq,
        };
        self.next_seq += 1;
        self.pending.insert(key, waker);
        key
    }

    /// Gives a pending timer the waker of its future's latest poll (the
    /// future may have moved to another task). `None` if the timer already
    /// fired; otherwise `Some` of the waker it replaced, if any, for the
    /// caller to drop once it stops borrowing the reactor.
    pub fn set_waker(&mut self, key: TimerKey, waker: &Waker) -> Option<Option<Waker>> {
        let stored = self.pending.get_mut(&key)?;
        if stored.will_wake(waker) {
            return Some(None);
        }
        Some(Some(std::mem::replace(stored, waker.clone())))
    }

    /// Removes a timer that has not fired, giving back its waker (to drop
    /// outside the reactor's borrow). O(log n).
    pub fn cancel(&mut self, key: TimerKey) -> Option<Waker> {
        self.pending.remove(&key)
    }

    /// How long the loop may sleep before the nearest timer is due, capped
    /// by `limit` (`None`: no cap). Never overflows, and is zero for a
    /// deadline in the past.
    pub fn poll_timeout(&self, now: Instant, limit: Option<Duration>) -> Option<Duration> {
        let until_next = self
            .pending
            .first_key_value()
            .map(|(key, _)| key.deadline.saturating_duration_since(now));
        match (until_next, limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Removes every timer whose deadline is at or before `now`, earliest
    /// first, adding its waker to `woken` for the caller to wake. Returns
    /// how many fired.
    pub fn fire_expired(&mut self, now: Instant, woken: &mut Vec<Waker>) -> usize {
        let mut fired = 0;
        while let Some(entry) = self.pending.first_entry() {
            if entry.key().deadline > now {
                break;
            }
            woken.push(entry.remove());
            fired += 1;
        }
        fired
    }
    // ANCHOR_END: timers

    /// The nearest deadline, if any timer is pending.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.pending.first_key_value().map(|(key, _)| key.deadline)
    }

    /// How many timers are pending.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// True if no timer is pending.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

/// `now + d`, or `None` when that is past the end of what `Instant` can
/// hold: a deadline of "never". `Duration::MAX` gets here, and must not panic.
pub fn deadline_after(now: Instant, d: Duration) -> Option<Instant> {
    now.checked_add(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct CountWakes(AtomicUsize);
    impl Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counter() -> (Arc<CountWakes>, Waker) {
        let c = Arc::new(CountWakes(AtomicUsize::new(0)));
        (c.clone(), Waker::from(c))
    }

    #[test]
    fn fires_in_deadline_order_and_only_when_due() {
        let now = Instant::now();
        let mut timers = Timers::new();
        let (late, late_waker) = counter();
        let (early, early_waker) = counter();
        timers.insert(now + Duration::from_millis(20), late_waker);
        timers.insert(now + Duration::from_millis(10), early_waker);
        assert_eq!(
            timers.poll_timeout(now, None),
            Some(Duration::from_millis(10))
        );
        let mut woken = Vec::new();
        assert_eq!(
            timers.fire_expired(now + Duration::from_millis(5), &mut woken),
            0
        );
        assert_eq!(
            timers.fire_expired(now + Duration::from_millis(10), &mut woken),
            1
        );
        woken.drain(..).for_each(Waker::wake);
        assert_eq!(early.0.load(Ordering::SeqCst), 1);
        assert_eq!(late.0.load(Ordering::SeqCst), 0);
        assert_eq!(
            timers.fire_expired(now + Duration::from_secs(1), &mut woken),
            1
        );
        assert!(timers.is_empty());
    }

    #[test]
    fn cancel_removes_and_same_deadlines_stay_apart() {
        let now = Instant::now();
        let mut timers = Timers::new();
        let (_, w) = counter();
        let a = timers.insert(now, w.clone());
        let b = timers.insert(now, w);
        assert_ne!(a, b);
        assert!(timers.cancel(a).is_some());
        assert!(timers.cancel(a).is_none());
        assert_eq!(timers.len(), 1);
    }

    #[test]
    fn no_overflow_for_any_duration() {
        let now = Instant::now();
        assert_eq!(deadline_after(now, Duration::MAX), None);
        let timers = Timers::new();
        assert_eq!(
            timers.poll_timeout(now, Some(Duration::MAX)),
            Some(Duration::MAX)
        );
        let mut timers = Timers::new();
        let (_, w) = counter();
        timers.insert(now, w);
        // A deadline in the past gives a zero timeout, not an underflow.
        assert_eq!(
            timers.poll_timeout(now + Duration::from_secs(5), None),
            Some(Duration::ZERO)
        );
    }
}

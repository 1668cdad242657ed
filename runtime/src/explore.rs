//! Exploring schedules (cargo feature `explore`): run the ready tasks of a
//! loop in an order a seed chooses, so that a bug which depends on that
//! order shows on demand, and a failing seed replays the same run.
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
//!
//! How the loop chooses is in `choose.rs`, where the choice is made.

/// The seed of the loop running on this thread, if it explores (it was
/// built with `Builder::explore_seed`); `None` otherwise, and outside a loop.
pub fn seed() -> Option<u64> {
    crate::executor::explored().map(|(seed, _, _)| seed)
}

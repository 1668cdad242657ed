//! `Builder`: the settings of a loop, for when the defaults of
//! [`Runtime::new`](crate::Runtime::new) are not what you want.
//!
//! Each setting arrives with the chapter of the feature it tunes.

use std::io;

use crate::executor::Runtime;

/// Settings for a new [`Runtime`].
///
/// ```
/// let rt = runtime::Builder::new().build().unwrap();
/// assert_eq!(rt.block_on(async { 1 }), 1);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Builder {
    _private: (),
}

impl Builder {
    /// The default settings.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Makes the loop: opens its poller. Fails only if the OS refuses (the
    /// process is out of file descriptors, for one).
    pub fn build(&mut self) -> io::Result<Runtime> {
        Runtime::from_builder(self)
    }
}

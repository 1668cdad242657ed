//! `Builder`: the settings of a loop, for when the defaults of
//! [`Runtime::new`](crate::Runtime::new) are not what you want.
//!
//! Each setting arrives with the chapter of the feature it tunes.

use std::io;
use std::time::Duration;

use crate::executor::Runtime;
use crate::observe::Sink;

/// Settings for a new [`Runtime`].
///
/// ```
/// let rt = runtime::Builder::new().build().unwrap();
/// assert_eq!(rt.block_on(async { 1 }), 1);
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    blocking_threads: usize,
    thread_keep_alive: Duration,
    slow_poll_threshold: Option<Duration>,
    reports: Sink,
    #[cfg(feature = "explore")]
    explore_seed: Option<u64>,
    #[cfg(feature = "explore")]
    start_paused: bool,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            blocking_threads: 512,
            thread_keep_alive: Duration::from_secs(10),
            slow_poll_threshold: None,
            reports: Sink::default(),
            #[cfg(feature = "explore")]
            explore_seed: None,
            #[cfg(feature = "explore")]
            start_paused: false,
        }
    }
}

impl Builder {
    /// The default settings.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// The most threads the blocking pool may run at once, like
    /// `ThreadPoolExecutor(max_workers=n)`; jobs past it wait in a queue.
    /// Default 512. Threads start only when jobs need them. Zero is refused
    /// by [`Builder::build`].
    pub fn blocking_threads(&mut self, n: usize) -> &mut Self {
        self.blocking_threads = n;
        self
    }

    /// How long a blocking-pool thread waits for a new job before it exits.
    /// Default 10 seconds.
    pub fn thread_keep_alive(&mut self, duration: Duration) -> &mut Self {
        self.thread_keep_alive = duration;
        self
    }

    /// Debug mode's slow-poll warning, like asyncio's
    /// `loop.slow_callback_duration`: when one poll of a task (or of the
    /// main future) takes longer than `duration`, one line on stderr names
    /// it and says how long it took; and a watchdog thread reports a poll
    /// that is *still* running past `duration`, while it blocks the loop.
    /// Off by default; `LOOPLET_DEBUG=1` turns it on at 100 ms.
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = runtime::Builder::new()
    ///     .slow_poll_threshold(Duration::from_millis(50))
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     std::thread::sleep(Duration::from_millis(80)); // reported on stderr
    /// });
    /// ```
    pub fn slow_poll_threshold(&mut self, duration: Duration) -> &mut Self {
        self.slow_poll_threshold = Some(duration);
        self
    }

    /// Where the loop's reports go: slow polls, the watchdog, a panic that
    /// nobody awaited or that the loop caught for you, and the
    /// `LOOPLET_TRACE` lines. `to` is called once per line, without the
    /// newline, on the loop's thread (the watchdog's reports come from its
    /// own thread, hence `Send + Sync`). The default is standard error, the
    /// way asyncio's debug mode writes to its logger. If `to` panics, that
    /// line goes to standard error instead and the loop goes on.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    /// let lines = Arc::new(Mutex::new(Vec::new()));
    /// let rt = runtime::Builder::new()
    ///     .slow_poll_threshold(Duration::from_millis(20))
    ///     .report_to({
    ///         let lines = lines.clone();
    ///         move |line: &str| lines.lock().unwrap().push(line.to_string())
    ///     })
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     std::thread::sleep(Duration::from_millis(50)); // blocks the loop
    /// });
    /// assert!(lines.lock().unwrap().iter().any(|l| l.contains("took")));
    /// ```
    pub fn report_to<F>(&mut self, to: F) -> &mut Self
    where
        F: Fn(&str) + Send + Sync + 'static,
    {
        self.reports = Sink::to(std::sync::Arc::new(to));
        self
    }

    /// Ready tasks run in the order `seed` chooses instead of first in,
    /// first out: a different order for each seed, the same order every
    /// time for one seed (see [`explore`](crate::explore)). With the cargo
    /// feature `explore`; for tests.
    #[cfg(feature = "explore")]
    pub fn explore_seed(&mut self, seed: u64) -> &mut Self {
        self.explore_seed = Some(seed);
        self
    }

    /// A virtual clock: the loop's time ([`time::now`](crate::time::now))
    /// stands still, and when no task is ready and nothing else is due, the
    /// loop jumps it to the next timer instead of waiting. An hour of
    /// `sleep` takes no time, the same way every run. With nothing ready,
    /// no timer and nothing in flight, the loop panics ("deadlock"), naming
    /// its tasks. With the cargo feature `explore`; for tests.
    #[cfg(feature = "explore")]
    pub fn start_paused(&mut self, on: bool) -> &mut Self {
        self.start_paused = on;
        self
    }

    /// Makes the loop: opens its poller. Fails if a setting is invalid, or
    /// if the OS refuses (the process is out of file descriptors, for one).
    pub fn build(&mut self) -> io::Result<Runtime> {
        if self.blocking_threads == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "Builder::blocking_threads(0): the blocking pool needs at least one \
                 thread to run spawn_blocking jobs; pass 1 or more",
            ));
        }
        let runtime = Runtime::with_settings(
            self.blocking_threads,
            self.thread_keep_alive,
            self.slow_poll_threshold,
            self.reports.clone(),
        )?;
        #[cfg(feature = "explore")]
        if let Some(seed) = self.explore_seed {
            runtime.explore(crate::choose::Chooser::new(seed));
        }
        #[cfg(feature = "explore")]
        if self.start_paused {
            runtime.pause_clock();
        }
        Ok(runtime)
    }
}

impl Runtime {
    /// A loop with the default settings; the same as `Builder::new().build()`.
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }
}

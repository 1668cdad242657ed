//! Unix signals through the public API, in a child process (a signal is
//! process-wide): a SIGTERM sent to ourselves arrives as a stream item, and
//! a second one too; two streams of one signal both see it; ctrl_c()
//! finishes on SIGINT; and the signals that cannot be caught are errors.
#![cfg(unix)]

use std::process::Command;
use std::time::Duration;

use runtime::signal::{ctrl_c, signal};
use runtime::stream::StreamExt;
use runtime::time::timeout;

/// Sends `signum` to this process.
fn raise(signum: i32) {
    // SAFETY: kill(2) with our own pid and a signal number touches no memory.
    let rc = unsafe { libc::kill(libc::getpid(), signum) };
    assert_eq!(rc, 0);
}

#[test]
fn child_signals_arrive_as_stream_items() {
    if std::env::var_os("LOOPLET_SIGNAL_CHILD").is_none() {
        return;
    }
    runtime::block_on(async {
        let limit = Duration::from_secs(10);
        let mut terms = signal(libc::SIGTERM).unwrap();
        let mut also = signal(libc::SIGTERM).unwrap();
        raise(libc::SIGTERM);
        timeout(limit, terms.next())
            .await
            .expect("the first SIGTERM arrived");
        timeout(limit, also.next())
            .await
            .expect("and reached the second stream too");
        raise(libc::SIGTERM);
        timeout(limit, terms.next())
            .await
            .expect("a second SIGTERM arrived");
        // Nothing more was sent: no item appears from nowhere.
        assert!(timeout(Duration::from_millis(50), terms.next())
            .await
            .is_err());
        drop(also);

        // Budget: a stream that is always ready (each round raises the
        // signal on this thread, which counts it before `raise` returns)
        // must not starve a 5 ms sleep. Without the budget this never ends.
        let hog = runtime::spawn(async {
            let mut usr2 = signal(libc::SIGUSR2).unwrap();
            loop {
                // SAFETY: raise(3) sends a signal to this thread; no memory.
                assert_eq!(unsafe { libc::raise(libc::SIGUSR2) }, 0);
                usr2.next().await;
            }
        });
        runtime::time::sleep(Duration::from_millis(5)).await;
        hog.abort();
        let _ = hog.await;

        // A storm of cancelled waits and dropped streams (more than the 64
        // slots) keeps the descriptor count flat and loses nothing. (Off
        // Linux there is no /proc to count, and `fds` gives 0.)
        let fds = || std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count());
        let mut kept = signal(libc::SIGUSR1).unwrap();
        let before = fds();
        for _ in 0..500 {
            let mut gone = signal(libc::SIGUSR1).unwrap();
            assert!(timeout(Duration::ZERO, gone.next()).await.is_err());
            assert!(timeout(Duration::ZERO, kept.next()).await.is_err());
        }
        #[cfg(target_os = "linux")]
        assert!(
            fds() <= before + 2,
            "{before} descriptors before, {} after",
            fds()
        );
        raise(libc::SIGUSR1);
        timeout(limit, kept.next())
            .await
            .expect("a delivery after the storm still arrives");

        let interrupted = runtime::spawn(async { ctrl_c().await.unwrap() });
        runtime::yield_now().await; // installs its handler at its first poll
        raise(libc::SIGINT);
        timeout(limit, interrupted)
            .await
            .expect("ctrl_c() finished")
            .unwrap();

        for forbidden in [libc::SIGKILL, libc::SIGSTOP, 0, 1000] {
            let e = signal(forbidden).unwrap_err();
            assert_eq!(
                e.kind(),
                std::io::ErrorKind::InvalidInput,
                "{forbidden}: {e}"
            );
        }
    });
    println!("signals ok");
}

#[test]
fn signals_arrive_as_stream_items() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_signals_arrive_as_stream_items",
            "--nocapture",
        ])
        .env("LOOPLET_SIGNAL_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed: {stdout}\n{stderr}");
    assert!(stdout.contains("signals ok"), "{stdout}\n{stderr}");
}

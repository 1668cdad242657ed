//! Child processes through the public API: output read while the child
//! runs, kill after a timeout, many children at once with no zombie and no
//! thread per child, and a dropped child reaped.
#![cfg(target_os = "linux")]

use std::process::Stdio;
use std::time::Duration;

use futures_util::io::{AsyncBufReadExt, BufReader};
use runtime::process::Command;
use runtime::time::{sleep, timeout};
use runtime::{block_on, gather};
use tests::with_deadline;

const LIMIT: Duration = Duration::from_secs(30);

/// Is process `pid` a zombie (exited, not reaped)? A reaped one is gone.
fn is_zombie(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // "pid (comm) state ...": the state comes after the last ')'.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, r)| r.trim_start().chars().next());
    state == Some('Z')
}

/// Threads of this process.
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

#[test]
fn output_is_read_line_by_line_while_the_child_runs() {
    with_deadline(LIMIT, || {
        block_on(async {
            let mut child = Command::new("sh")
                .args(["-c", "echo one; sleep 0.3; echo two"])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
            use futures_util::StreamExt;
            assert_eq!(lines.next().await.unwrap().unwrap(), "one");
            // The child is still running (it sleeps): its wait does not finish.
            assert!(timeout(Duration::from_millis(50), child.wait())
                .await
                .is_err());
            assert_eq!(lines.next().await.unwrap().unwrap(), "two");
            assert!(lines.next().await.is_none());
            assert!(child.wait().await.unwrap().success());
        })
    });
}

#[test]
fn a_child_can_be_killed_after_a_timeout_and_then_waited_for() {
    with_deadline(LIMIT, || {
        block_on(async {
            let mut child = Command::new("sleep").arg("30").spawn().unwrap();
            assert!(timeout(Duration::from_millis(100), child.wait())
                .await
                .is_err());
            child.kill().unwrap();
            let status = child.wait().await.unwrap();
            assert_eq!(status.code(), None, "killed by a signal: {status}");
        })
    });
}

#[test]
fn stdin_and_output_work_like_communicate() {
    with_deadline(LIMIT, || {
        block_on(async {
            let mut child = Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(b"through cat\n").await.unwrap();
            drop(stdin); // closes the pipe: cat sees end of file
            let mut out = String::new();
            futures_util::io::AsyncReadExt::read_to_string(
                child.stdout.as_mut().unwrap(),
                &mut out,
            )
            .await
            .unwrap();
            assert_eq!(out, "through cat\n");
            assert!(child.wait().await.unwrap().success());

            let output = Command::new("sh")
                .args(["-c", "echo out; echo err >&2; exit 3"])
                .output()
                .await
                .unwrap();
            assert_eq!(output.stdout, b"out\n");
            assert_eq!(output.stderr, b"err\n");
            assert_eq!(output.status.code(), Some(3));
        })
    });
}

#[test]
fn two_hundred_children_at_once_leave_no_zombie_and_no_thread_per_child() {
    with_deadline(LIMIT, || {
        block_on(async {
            let threads_before = threads();
            let mut children: Vec<_> = (0..200)
                .map(|i| {
                    Command::new("sh")
                        .args(["-c", &format!("sleep 0.1; exit {}", i % 7)])
                        .spawn()
                        .unwrap()
                })
                .collect();
            let pids: Vec<u32> = children.iter().map(|c| c.id()).collect();
            // All 200 are running now; a thread per child would show here.
            let threads_during = threads();
            let statuses = gather(children.iter_mut().map(|c| c.wait())).await;
            for (i, status) in statuses.into_iter().enumerate() {
                assert_eq!(status.unwrap().code(), Some(i as i32 % 7));
            }
            // Other tests of this binary run beside this one and have
            // threads of their own: the margin is for them, far below 200.
            assert!(
                threads_during <= threads_before + 20,
                "{threads_during} threads with 200 children, {threads_before} before"
            );
            let zombies: Vec<u32> = pids.into_iter().filter(|&pid| is_zombie(pid)).collect();
            assert!(zombies.is_empty(), "not reaped: {zombies:?}");
        })
    });
}

#[test]
fn a_dropped_child_is_reaped_when_it_exits() {
    with_deadline(LIMIT, || {
        block_on(async {
            let child = Command::new("sleep").arg("0.1").spawn().unwrap();
            let pid = child.id();
            drop(child); // still running; a task will reap it
            sleep(Duration::from_millis(400)).await;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let state = stat
                .rsplit_once(')')
                .map(|(_, r)| r.trim_start().chars().next());
            assert_ne!(state, Some(Some('Z')), "pid {pid} is a zombie");
        })
    });
}

//! TCP echo across processes: a server process per runtime, and one load
//! process that is the same for every server, so only the server differs.
//!
//! The bench binary plays every part. `--echo-server RUNTIME` serves on a
//! free port and prints it; `--echo-load ADDR CONNS MESSAGES` connects
//! everything, says `connected`, waits for `go` on stdin, echoes, and says
//! `done SECONDS`. The parent reads the server's RSS (from `/proc`) while
//! the connections sit idle, which gives memory per idle connection.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// 64-byte messages, as in the issue.
const MESSAGE: usize = 64;

/// What one echo run measured.
#[derive(Debug, Clone, Copy)]
pub struct EchoResult {
    pub messages_per_sec: f64,
    /// Server RSS growth per idle connection, in bytes (Linux only).
    pub rss_per_conn: Option<f64>,
}

/// The server side, in this process: serve until stdin closes.
pub fn serve(runtime: &str) {
    // The parent closes our stdin to stop us, or kills us.
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(0);
    });
    // Best effort: with a low hard limit the run fails later, saying so.
    let _ = examples::raise_fd_limit(0);
    match runtime {
        "looplet" => runtime::block_on(looplet_server()),
        "tokio" => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(tokio_server()),
        "smol" => smol::block_on(smol_server()),
        other => panic!("unknown runtime {other:?}"),
    }
}

fn announce(port: u16) {
    println!("port {port}");
    std::io::stdout().flush().unwrap();
}

async fn looplet_server() {
    let listener = runtime::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap();
    announce(listener.local_addr().unwrap().port());
    while let Ok((mut conn, _)) = listener.accept().await {
        drop(runtime::spawn(async move {
            let mut buf = [0; 4096];
            while let Ok(n @ 1..) = conn.read(&mut buf).await {
                if conn.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        }));
    }
}

async fn tokio_server() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    announce(listener.local_addr().unwrap().port());
    while let Ok((mut conn, _)) = listener.accept().await {
        tokio::spawn(async move {
            let mut buf = [0; 4096];
            while let Ok(n @ 1..) = conn.read(&mut buf).await {
                if conn.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        });
    }
}

async fn smol_server() {
    use smol::io::{AsyncReadExt, AsyncWriteExt};
    let ex = smol::LocalExecutor::new();
    ex.run(async {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        announce(listener.local_addr().unwrap().port());
        while let Ok((mut conn, _)) = listener.accept().await {
            ex.spawn(async move {
                let mut buf = [0; 4096];
                while let Ok(n @ 1..) = conn.read(&mut buf).await {
                    if conn.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            })
            .detach();
        }
    })
    .await
}

/// The load side, in this process: the same client for every server.
pub fn load(addr: &str, conns: usize, messages: usize) {
    // Best effort: with a low hard limit the run fails later, saying so.
    let _ = examples::raise_fd_limit(0);
    runtime::block_on(async {
        let mut streams = Vec::with_capacity(conns);
        while streams.len() < conns {
            let batch = (conns - streams.len()).min(500);
            let connects = (0..batch).map(|_| runtime::net::TcpStream::connect(addr));
            streams.extend(runtime::try_gather(connects).await.expect("connect"));
        }
        println!("connected");
        std::io::stdout().flush().unwrap();
        // Wait for "go": reading stdin blocks, so it goes to the pool.
        runtime::spawn_blocking(|| {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).unwrap();
        })
        .await
        .unwrap();
        let start = Instant::now();
        let rounds = streams.into_iter().map(|mut s| async move {
            s.set_nodelay(true)?;
            let out = [b'x'; MESSAGE];
            let mut back = [0; MESSAGE];
            for _ in 0..messages {
                s.write_all(&out).await?;
                s.read_exact(&mut back).await?;
            }
            Ok::<_, std::io::Error>(())
        });
        runtime::try_gather(rounds).await.expect("echo");
        println!("done {}", start.elapsed().as_secs_f64());
    });
}

/// Starts `server` (a command that prints `port N`), loads it with
/// `conns` x `messages`, and measures it.
pub fn run(mut server: Command, conns: usize, messages: usize) -> EchoResult {
    let mut server = server
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the echo server");
    let port = read_port(&mut server);
    std::thread::sleep(Duration::from_millis(100));
    let base = examples::resident_memory_of(server.id());
    let mut load = Command::new(std::env::current_exe().unwrap())
        .args([
            "--echo-load",
            &format!("127.0.0.1:{port}"),
            &conns.to_string(),
            &messages.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the load process");
    let mut lines = BufReader::new(load.stdout.take().unwrap()).lines();
    let connected = lines
        .next()
        .expect("the load process says connected")
        .unwrap();
    assert_eq!(connected, "connected");
    std::thread::sleep(Duration::from_millis(300)); // let the server settle
    let idle = examples::resident_memory_of(server.id());
    writeln!(load.stdin.as_mut().unwrap(), "go").unwrap();
    let done = lines.next().expect("the load process says done").unwrap();
    let secs: f64 = done.strip_prefix("done ").unwrap().parse().unwrap();
    load.wait().unwrap();
    stop(server);
    EchoResult {
        messages_per_sec: (conns * messages) as f64 / secs,
        rss_per_conn: match (base, idle) {
            (Some(b), Some(i)) => Some(i.saturating_sub(b) as f64 / conns as f64),
            _ => None,
        },
    }
}

/// Syscalls the server makes per echoed message, counted by `strace -c -f`
/// (`None` where strace is missing or not allowed).
pub fn syscalls_per_message(server_args: &[&str], conns: usize, messages: usize) -> Option<f64> {
    let out = std::env::temp_dir().join(format!("looplet-bench-strace-{}.txt", std::process::id()));
    // strace must exist *and* be allowed to trace (ptrace can be off in
    // containers): try it on `true` first, and leave the line empty if not.
    let works = Command::new("strace")
        .args(["-f", "-c", "-o", "/dev/null", "true"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !works {
        return None;
    }
    let mut cmd = Command::new("strace");
    cmd.args(["-f", "-c", "-o"]).arg(&out).args(server_args);
    run(cmd, conns, messages);
    let text = std::fs::read_to_string(&out).ok()?;
    let _ = std::fs::remove_file(&out);
    // The last line is "100.00 secs usecs/call calls errors total".
    let total = text
        .lines()
        .rev()
        .find(|l| l.trim_end().ends_with("total"))?;
    let fields: Vec<&str> = total.split_whitespace().collect();
    let calls: f64 = fields.get(fields.len().checked_sub(3)?)?.parse().ok()?;
    Some(calls / (conns * messages) as f64)
}

pub fn read_port(server: &mut Child) -> u16 {
    let mut reader = BufReader::new(server.stdout.take().unwrap());
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .expect("the server prints its port");
    line.trim()
        .strip_prefix("port ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("expected `port N`, got {line:?}"))
}

fn stop(mut server: Child) {
    drop(server.stdin.take()); // our servers exit when stdin closes
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = server.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = server.kill();
    let _ = server.wait();
}

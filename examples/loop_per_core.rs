//! Many cores, two ways, measured in one run: an echo server as one looplet
//! loop, as one looplet loop per core (each thread its own `block_on`, all
//! accepting on one port through `SO_REUSEPORT`, so the kernel spreads the
//! connections), and on tokio's multi-thread runtime (one listener, tasks
//! stolen between worker threads). The load is the same for all three: a
//! looplet client in this process, many connections echoing 64-byte
//! messages.
//!
//! `cargo run --release --example loop_per_core --features tokio [CONNS] [MESSAGES]`
//! (defaults: 200 connections, 2,000 messages each). Each server runs in a
//! child process, so its CPU time (from `wait4`) is its own.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::os::fd::FromRawFd;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MESSAGE: usize = 64;
const ROUNDS: usize = 3;

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--serve") {
        let threads = args[2].parse().unwrap();
        return match args[1].as_str() {
            "looplet" => serve_loop_per_core(threads),
            _ => serve_tokio(threads),
        };
    }
    let conns: usize = args
        .first()
        .map_or(200, |s| s.parse().expect("CONNS is a number"));
    let messages: usize = args
        .get(1)
        .map_or(2_000, |s| s.parse().expect("MESSAGES is a number"));
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    examples::raise_fd_limit(conns as u64 + 100).map_err(std::io::Error::other)?;
    println!(
        "{conns} connections x {messages} echoes of {MESSAGE} B, on a machine with {cores} cores \
         (the client, one looplet thread, shares them):\n"
    );
    let servers = [
        ("looplet, one loop", "looplet", 1),
        (
            "looplet, one loop per core (SO_REUSEPORT)",
            "looplet",
            cores,
        ),
        ("tokio, multi-thread runtime", "tokio", cores),
    ];
    // Three rounds, the servers in turn, and the median of each: this
    // machine is shared, and one run can be lucky or unlucky.
    let mut rates = vec![Vec::new(); servers.len()];
    let mut cpus = vec![Vec::new(); servers.len()];
    for _ in 0..ROUNDS {
        for (i, (_, kind, threads)) in servers.iter().enumerate() {
            let (rate, cpu) = run(kind, *threads, conns, messages)?;
            rates[i].push(rate);
            cpus[i].push(cpu.as_secs_f64() * 1e6 / (conns * messages) as f64);
        }
    }
    println!("| server | threads | messages/s | server CPU per message |");
    println!("|---|---:|---:|---:|");
    for (i, (name, _, threads)) in servers.iter().enumerate() {
        let (rate, cpu) = (median(&mut rates[i]), median(&mut cpus[i]));
        println!("| {name} | {threads} | {rate:.0} | {cpu:.2} µs |");
    }
    println!("\n(median of {ROUNDS} rounds)");
    Ok(())
}

/// Starts a server process, loads it, stops it: messages per second, and
/// the server's CPU time in all.
fn run(
    kind: &str,
    threads: usize,
    conns: usize,
    messages: usize,
) -> std::io::Result<(f64, Duration)> {
    let mut server = Command::new(std::env::current_exe()?)
        .args(["--serve", kind, &threads.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(server.stdout.take().expect("piped")).read_line(&mut line)?;
    let addr: SocketAddr = line.trim().parse().map_err(std::io::Error::other)?;
    let secs = runtime::block_on(load(addr, conns, messages))?;
    drop(server.stdin.take()); // the server exits when its stdin closes
    let mut status = 0;
    // SAFETY: a zeroed `rusage` is a valid value of that plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `status` and `usage` are valid and writable for the call, and
    // the pid is our own child, not reaped yet.
    let pid = unsafe { libc::wait4(server.id() as i32, &mut status, 0, &mut usage) };
    if pid <= 0 {
        return Err(std::io::Error::last_os_error());
    }
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Ok((
        (conns * messages) as f64 / secs,
        time(usage.ru_utime) + time(usage.ru_stime),
    ))
}

/// The client: every connection echoes its messages one after another,
/// all connections at once. Returns the seconds it took.
async fn load(addr: SocketAddr, conns: usize, messages: usize) -> std::io::Result<f64> {
    let mut streams = Vec::new();
    for _ in 0..conns {
        let stream = runtime::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        streams.push(stream);
    }
    let start = Instant::now();
    let clients = streams.into_iter().map(|mut stream| async move {
        let message = [7u8; MESSAGE];
        let mut back = [0u8; MESSAGE];
        for _ in 0..messages {
            stream.write_all(&message).await?;
            stream.read_exact(&mut back).await?;
        }
        Ok::<(), std::io::Error>(())
    });
    for done in runtime::gather(clients).await {
        done?;
    }
    Ok(start.elapsed().as_secs_f64())
}

/// Exits the process when the parent closes our stdin.
fn exit_when_stdin_closes() {
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(0);
    });
}

// ANCHOR: loop_per_core
/// `threads` threads, each with its own loop and its own listening socket
/// on the same port. `SO_REUSEPORT` lets them all bind it; the kernel then
/// hands each new connection to one of them. Nothing is shared between the
/// loops, so nothing needs `Send`, and no lock or atomic sits between cores.
fn serve_loop_per_core(threads: usize) -> std::io::Result<()> {
    exit_when_stdin_closes();
    let _ = examples::raise_fd_limit(0);
    let first = reuse_port_listener("127.0.0.1:0".parse().unwrap())?;
    let addr = first.local_addr()?;
    let mut listeners = vec![first];
    for _ in 1..threads {
        listeners.push(reuse_port_listener(addr)?);
    }
    let loops: Vec<_> = listeners
        .into_iter()
        .map(|listener| {
            std::thread::spawn(move || {
                runtime::block_on(async move {
                    let listener = runtime::net::TcpListener::from_std(listener).unwrap();
                    examples::serve(listener, examples::echo).await;
                })
            })
        })
        .collect();
    println!("{addr}");
    std::io::stdout().flush()?;
    for one in loops {
        let _ = one.join();
    }
    Ok(())
}

/// A listening socket with `SO_REUSEPORT` set before `bind`, which std's
/// `TcpListener::bind` cannot do.
fn reuse_port_listener(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let SocketAddr::V4(v4) = addr else {
        return Err(std::io::Error::other("this example binds IPv4 only"));
    };
    // SAFETY: plain socket calls on a descriptor this function owns; every
    // pointer passed points at a live local of the right size.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // Owned from here on: closed on every error path below.
        let listener = std::net::TcpListener::from_raw_fd(fd);
        let on: libc::c_int = 1;
        let size = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        let set = |option| {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                option,
                (&on as *const libc::c_int).cast(),
                size,
            )
        };
        if set(libc::SO_REUSEADDR) < 0 || set(libc::SO_REUSEPORT) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let sin = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: v4.port().to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from(*v4.ip()).to_be(),
            },
            sin_zero: [0; 8],
        };
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        if libc::bind(fd, (&sin as *const libc::sockaddr_in).cast(), len) < 0
            || libc::listen(fd, 1024) < 0
        {
            return Err(std::io::Error::last_os_error());
        }
        Ok(listener)
    }
}
// ANCHOR_END: loop_per_core

// ANCHOR: tokio
/// tokio's multi-thread runtime with `threads` workers: one listener, and
/// each connection a task that any worker may run (and steal). `spawn`
/// here needs `Send + 'static` futures, because of that stealing.
fn serve_tokio(threads: usize) -> std::io::Result<()> {
    exit_when_stdin_closes();
    let _ = examples::raise_fd_limit(0);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("{}", listener.local_addr()?);
        std::io::stdout().flush()?;
        loop {
            let (mut conn, _) = listener.accept().await?;
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = conn.read(&mut buf).await {
                    if conn.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    })
}
// ANCHOR_END: tokio

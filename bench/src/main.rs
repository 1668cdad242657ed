//! looplet, tokio and smol side by side: the same workloads in one run, one
//! table, medians of several runs, and the ratio looplet / tokio.
//!
//! ```sh
//! cargo run --release -p bench -- --quick             # under a minute, smaller sizes
//! cargo run --release -p bench                        # the full sizes, a few minutes
//! cargo run --release -p bench -- --json table.json   # also write the table as JSON
//! ```
//!
//! Times depend on the machine and on what else it is doing; read the ratio
//! column, taken in one run. Counted figures (allocations per spawn and per
//! wake, heap bytes, syscalls per message) do not, and the run fails if
//! looplet's allocations exceed their budget: one per spawn, none per wake.

mod counting;
mod echo;
mod rt;
mod workloads;

use std::process::Command;
use std::time::Duration;

use rt::{Looplet, Smol, Tokio};
use workloads::Sample;

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

/// How big each workload is.
struct Sizes {
    runs: usize,
    spawn: usize,
    ping_pong: usize,
    yields: usize,
    thread_wakes: u64,
    sleeps: usize,
    sleep_max: Duration,
    blocking: usize,
    echo_small: (usize, usize),
    echo_large: (usize, usize),
    pending: usize,
    strace: (usize, usize),
}

impl Sizes {
    fn full() -> Sizes {
        Sizes {
            runs: 5,
            spawn: 200_000,
            ping_pong: 1_000_000,
            yields: 1_000_000,
            thread_wakes: 100_000,
            sleeps: 100_000,
            sleep_max: Duration::from_millis(100),
            blocking: 100_000,
            echo_small: (100, 2_000),
            echo_large: (10_000, 20),
            pending: 100_000,
            strace: (100, 1_000),
        }
    }

    fn quick() -> Sizes {
        Sizes {
            runs: 1,
            spawn: 50_000,
            ping_pong: 200_000,
            yields: 200_000,
            thread_wakes: 10_000,
            sleeps: 20_000,
            sleep_max: Duration::from_millis(50),
            blocking: 10_000,
            echo_small: (100, 200),
            echo_large: (1_000, 10),
            pending: 20_000,
            strace: (50, 200),
        }
    }
}

/// One line of the table.
struct Row {
    name: String,
    unit: &'static str,
    /// True for throughputs; the ratio is then inverted so that, on every
    /// line, a ratio below 1 means looplet did better.
    higher_is_better: bool,
    /// looplet, tokio, smol.
    values: [Option<f64>; 3],
    /// A counted figure beside each, with its name.
    counted: Option<(&'static str, [Option<f64>; 3])>,
    asyncio: Option<f64>,
}

fn median(mut xs: Vec<f64>) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(|a, b| a.total_cmp(b));
    Some(xs[xs.len() / 2])
}

/// Runs `work` on each runtime `runs` times, interleaved, and takes medians.
fn measure(runs: usize, work: [&dyn Fn() -> Sample; 3]) -> ([Option<f64>; 3], [Option<f64>; 3]) {
    let mut values: [Vec<f64>; 3] = Default::default();
    let mut counted: [Vec<f64>; 3] = Default::default();
    for _ in 0..runs {
        for (i, w) in work.iter().enumerate() {
            let s = w();
            values[i].push(s.value);
            counted[i].extend(s.counted);
        }
    }
    (values.map(median), counted.map(median))
}

fn in_process_rows(s: &Sizes) -> Vec<Row> {
    let mut rows = Vec::new();
    let k = |n: usize| format!("{}k", n / 1000);

    eprintln!("spawn and join ...");
    let n = s.spawn;
    let (v, c) = measure(
        s.runs,
        [
            &|| workloads::spawn_join::<Looplet>(n),
            &|| workloads::spawn_join::<Tokio>(n),
            &|| workloads::spawn_join::<Smol>(n),
        ],
    );
    rows.push(Row {
        name: format!("spawn + join {} tasks", k(n)),
        unit: "ms",
        higher_is_better: false,
        values: v.map(|x| x.map(|s| s * 1e3)),
        counted: Some(("allocs/spawn", c)),
        asyncio: python_spawn_gather(n).map(|s| s * 1e3),
    });

    eprintln!("ping-pong ...");
    let n = s.ping_pong;
    let (v, c) = measure(
        s.runs,
        [
            &|| workloads::ping_pong::<Looplet>(n),
            &|| workloads::ping_pong::<Tokio>(n),
            &|| workloads::ping_pong::<Smol>(n),
        ],
    );
    rows.push(Row {
        name: format!("wake ping-pong, {} wakes", k(n)),
        unit: "ms",
        higher_is_better: false,
        values: v.map(|x| x.map(|s| s * 1e3)),
        counted: Some(("allocs/wake", c)),
        asyncio: None,
    });

    eprintln!("yield_now ...");
    let n = s.yields;
    let (v, _) = measure(
        s.runs,
        [
            &|| workloads::yield_many::<Looplet>(n),
            &|| workloads::yield_many::<Tokio>(n),
            &|| workloads::yield_many::<Smol>(n),
        ],
    );
    rows.push(Row {
        name: format!("yield_now x {}", k(n)),
        unit: "ms",
        higher_is_better: false,
        values: v.map(|x| x.map(|s| s * 1e3)),
        counted: None,
        asyncio: None,
    });

    eprintln!("wakes from a thread ...");
    let n = s.thread_wakes;
    let (v, _) = measure(
        s.runs,
        [
            &|| workloads::thread_wake::<Looplet>(n),
            &|| workloads::thread_wake::<Tokio>(n),
            &|| workloads::thread_wake::<Smol>(n),
        ],
    );
    rows.push(Row {
        name: format!("wake from a thread, round trip ({}k)", n / 1000),
        unit: "us",
        higher_is_better: false,
        values: v,
        counted: None,
        asyncio: None,
    });

    eprintln!("sleeps ...");
    let (n, max) = (s.sleeps, s.sleep_max);
    let (v, c) = measure(
        s.runs,
        [
            &|| workloads::sleeps::<Looplet>(n, max),
            &|| workloads::sleeps::<Tokio>(n, max),
            &|| workloads::sleeps::<Smol>(n, max),
        ],
    );
    rows.push(Row {
        name: format!(
            "{} sleeps <= {} ms: time past the longest",
            k(n),
            max.as_millis()
        ),
        unit: "ms",
        higher_is_better: false,
        values: v.map(|x| x.map(|s| s * 1e3)),
        counted: Some(("peak heap B/sleep", c)),
        asyncio: None,
    });

    eprintln!("spawn_blocking ...");
    let n = s.blocking;
    let (v, _) = measure(
        s.runs,
        [
            &|| workloads::blocking::<Looplet>(n),
            &|| workloads::blocking::<Tokio>(n),
            &|| workloads::blocking::<Smol>(n),
        ],
    );
    rows.push(Row {
        name: format!("{} tiny spawn_blocking jobs", k(n)),
        unit: "ms",
        higher_is_better: false,
        values: v.map(|x| x.map(|s| s * 1e3)),
        counted: None,
        asyncio: None,
    });

    eprintln!("pending tasks ...");
    let n = s.pending;
    let (v, _) = measure(
        1,
        [
            &|| workloads::pending_tasks::<Looplet>(n),
            &|| workloads::pending_tasks::<Tokio>(n),
            &|| workloads::pending_tasks::<Smol>(n),
        ],
    );
    rows.push(Row {
        name: format!("heap per pending task ({} parked)", k(n)),
        unit: "B",
        higher_is_better: false,
        values: v,
        counted: None,
        asyncio: None,
    });
    rows
}

fn server_command(runtime: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--echo-server", runtime]);
    cmd
}

fn python() -> Option<Command> {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .ok()?
        .status
        .success();
    ok.then(|| Command::new("python3"))
}

fn python_script(name: &str) -> String {
    format!("{}/python/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn python_spawn_gather(n: usize) -> Option<f64> {
    let out = python()?
        .arg(python_script("spawn_gather.py"))
        .arg(n.to_string())
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

fn echo_rows(s: &Sizes) -> Vec<Row> {
    let runtimes = ["looplet", "tokio", "smol"];
    let mut rows = Vec::new();
    let mut idle_rss = [None; 3];
    for (conns, messages) in [s.echo_small, s.echo_large] {
        eprintln!("echo with {conns} connections ...");
        let echo_runs = s.runs.min(3);
        let mut rates: [Vec<f64>; 3] = Default::default();
        let mut rss: [Vec<f64>; 3] = Default::default();
        for _ in 0..echo_runs {
            for (i, rt) in runtimes.iter().enumerate() {
                let r = echo::run(server_command(rt), conns, messages);
                rates[i].push(r.messages_per_sec);
                rss[i].extend(r.rss_per_conn);
            }
        }
        let asyncio = python().map(|mut py| {
            py.arg(python_script("echo_server.py"));
            echo::run(py, conns, messages).messages_per_sec
        });
        if conns == s.echo_large.0 {
            idle_rss = rss.map(median);
        }
        rows.push(Row {
            name: format!("TCP echo, {conns} conns x {messages} msgs of 64 B"),
            unit: "msg/s",
            higher_is_better: true,
            values: rates.map(median),
            counted: None,
            asyncio,
        });
    }
    rows.push(Row {
        name: format!("server RSS per idle connection ({} held)", s.echo_large.0),
        unit: "B",
        higher_is_better: false,
        values: idle_rss,
        counted: None,
        asyncio: None,
    });
    eprintln!("syscalls per echoed message (strace) ...");
    let (conns, messages) = s.strace;
    let exe = std::env::current_exe().unwrap();
    let exe = exe.to_str().unwrap();
    let syscalls =
        runtimes.map(|rt| echo::syscalls_per_message(&[exe, "--echo-server", rt], conns, messages));
    rows.push(Row {
        name: format!("server syscalls per echoed message ({conns} conns, strace -c -f)"),
        unit: "calls",
        higher_is_better: false,
        values: syscalls,
        counted: None,
        asyncio: None,
    });
    rows
}

fn fmt(x: Option<f64>) -> String {
    match x {
        None => "-".into(),
        Some(x) if x >= 1000.0 => format!("{x:.0}"),
        Some(x) if x >= 10.0 => format!("{x:.1}"),
        Some(x) => format!("{x:.2}"),
    }
}

/// looplet's cost over tokio's: below 1 means looplet did better.
fn ratio(row: &Row) -> Option<f64> {
    let (l, t) = (row.values[0]?, row.values[1]?);
    if row.higher_is_better {
        Some(t / l)
    } else if t == 0.0 {
        None
    } else {
        Some(l / t)
    }
}

fn print_table(rows: &[Row]) {
    println!(
        "\n{:<52} {:>6} {:>10} {:>10} {:>10} {:>10} {:>8}",
        "workload", "unit", "looplet", "tokio", "smol", "asyncio", "l/tokio"
    );
    println!("{}", "-".repeat(112));
    for row in rows {
        println!(
            "{:<52} {:>6} {:>10} {:>10} {:>10} {:>10} {:>8}",
            row.name,
            row.unit,
            fmt(row.values[0]),
            fmt(row.values[1]),
            fmt(row.values[2]),
            fmt(row.asyncio),
            fmt(ratio(row)),
        );
        if let Some((what, c)) = row.counted {
            println!(
                "{:<52} {:>6} {:>10} {:>10} {:>10}",
                format!("  counted: {what}"),
                "",
                fmt(c[0]),
                fmt(c[1]),
                fmt(c[2])
            );
        }
    }
    println!("\nl/tokio: looplet's cost over tokio's on that line (time, bytes or calls; for");
    println!("msg/s, tokio's rate over looplet's). Below 1.00, looplet did better.");
}

fn json(rows: &[Row], quick: bool) -> String {
    let num = |x: Option<f64>| x.map_or("null".to_string(), |x| format!("{x}"));
    let mut out = format!("{{\"quick\": {quick}, \"rows\": [\n");
    for (i, row) in rows.iter().enumerate() {
        let counted = match row.counted {
            Some((what, c)) => format!(
                "{{\"what\": \"{what}\", \"looplet\": {}, \"tokio\": {}, \"smol\": {}}}",
                num(c[0]),
                num(c[1]),
                num(c[2])
            ),
            None => "null".into(),
        };
        out += &format!(
            "  {{\"workload\": \"{}\", \"unit\": \"{}\", \"looplet\": {}, \"tokio\": {}, \"smol\": {}, \"asyncio\": {}, \"ratio_looplet_tokio\": {}, \"counted\": {counted}}}{}\n",
            row.name,
            row.unit,
            num(row.values[0]),
            num(row.values[1]),
            num(row.values[2]),
            num(row.asyncio),
            num(ratio(row)),
            if i + 1 < rows.len() { "," } else { "" }
        );
    }
    out + "]}\n"
}

/// Fails the run if looplet's counted allocations are over budget.
fn check_budgets(rows: &[Row]) -> Result<(), String> {
    let counted = |what: &str| {
        rows.iter()
            .filter_map(|r| r.counted)
            .find(|(w, _)| *w == what)
            .and_then(|(_, c)| c[0])
    };
    let per_spawn = counted("allocs/spawn").ok_or("no allocs/spawn figure")?;
    let per_wake = counted("allocs/wake").ok_or("no allocs/wake figure")?;
    // The task table and run queue grow by doubling, which adds a few
    // allocations over a whole run: far below 0.05 per spawn.
    if per_spawn > 1.05 {
        return Err(format!(
            "looplet made {per_spawn:.2} allocations per spawn; the budget is 1"
        ));
    }
    if per_wake > 0.001 {
        return Err(format!(
            "looplet made {per_wake:.4} allocations per wake; the budget is 0"
        ));
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--echo-server") => return echo::serve(&args[1]),
        Some("--echo-load") => {
            return echo::load(&args[1], args[2].parse().unwrap(), args[3].parse().unwrap())
        }
        _ => {}
    }
    let quick = args.iter().any(|a| a == "--quick");
    let json_path = args
        .iter()
        .position(|a| a == "--json")
        .map(|i| args.get(i + 1).expect("--json needs a path").clone());
    let sizes = if quick { Sizes::quick() } else { Sizes::full() };
    let start = std::time::Instant::now();
    let mut rows = in_process_rows(&sizes);
    rows.extend(echo_rows(&sizes));
    print_table(&rows);
    println!(
        "({} mode, {} run(s) per line, {:.0?} in all)",
        if quick { "quick" } else { "full" },
        sizes.runs,
        start.elapsed()
    );
    if let Some(path) = json_path {
        std::fs::write(&path, json(&rows, quick)).expect("write the JSON table");
        println!("wrote {path}");
    }
    if let Err(e) = check_budgets(&rows) {
        eprintln!("bench: over budget: {e}");
        std::process::exit(1);
    }
}

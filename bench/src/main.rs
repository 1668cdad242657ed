//! looplet, tokio and smol side by side: the same workloads in one run, one
//! table, medians of several runs, and the ratio looplet / tokio.
//!
//! ```sh
//! cargo run --release -p bench -- --quick             # under a minute, smaller sizes
//! cargo run --release -p bench                        # the full sizes, a few minutes
//! cargo run --release -p bench -- --json table.json   # also write the table as JSON
//! cargo run --release -p bench -- --only ping-pong    # just the lines whose name has that
//! ```
//!
//! Times depend on the machine and on what else it is doing; read the ratio
//! column, taken in one run. Counted figures (allocations per spawn and per
//! wake, heap bytes, syscalls per message) do not, and the run fails if
//! looplet exceeds its budgets: one allocation per spawn, none per wake, and
//! at most 2.05 syscalls per echoed message (where strace can count them).

mod counting;
mod echo;
mod http;
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
    /// hyper hello: keep-alive connections, requests on each.
    http: (usize, usize),
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
            http: (50, 2_000),
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
            strace: (50, 1_000),
            http: (20, 500),
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

/// Runs one workload, given as a generic function, on all three runtimes.
macro_rules! on_each_runtime {
    ($work:ident, $($arg:expr),*) => {
        [
            &|| workloads::$work::<Looplet>($($arg),*),
            &|| workloads::$work::<Tokio>($($arg),*),
            &|| workloads::$work::<Smol>($($arg),*),
        ]
    };
}

/// One in-process line: its name, unit, how to scale its value (seconds to
/// ms, say), the name of its counted figure, and the work.
struct Line<'a> {
    name: String,
    unit: &'static str,
    scale: f64,
    counted: Option<&'static str>,
    runs: usize,
    work: [&'a dyn Fn() -> Sample; 3],
}

fn in_process_rows(s: &Sizes, only: &dyn Fn(&str) -> bool) -> Vec<Row> {
    let k = |n: usize| format!("{}k", n / 1000);
    let (max, thread_wakes) = (s.sleep_max, s.thread_wakes);
    let lines = [
        Line {
            name: format!("spawn + join {} tasks", k(s.spawn)),
            unit: "ms",
            scale: 1e3,
            counted: Some("allocs/spawn"),
            runs: s.runs,
            work: on_each_runtime!(spawn_join, s.spawn),
        },
        Line {
            name: format!("wake ping-pong, {} wakes", k(s.ping_pong)),
            unit: "ms",
            scale: 1e3,
            counted: Some("allocs/wake"),
            runs: s.runs,
            work: on_each_runtime!(ping_pong, s.ping_pong),
        },
        Line {
            name: format!("yield_now x {}", k(s.yields)),
            unit: "ms",
            scale: 1e3,
            counted: None,
            runs: s.runs,
            work: on_each_runtime!(yield_many, s.yields),
        },
        Line {
            name: format!("wake from a thread, round trip ({}k)", thread_wakes / 1000),
            unit: "us",
            scale: 1.0,
            counted: None,
            runs: s.runs,
            work: on_each_runtime!(thread_wake, thread_wakes),
        },
        Line {
            name: format!(
                "{} sleeps <= {} ms: time past the longest",
                k(s.sleeps),
                max.as_millis()
            ),
            unit: "ms",
            scale: 1e3,
            counted: Some("peak heap B/sleep"),
            runs: s.runs,
            work: on_each_runtime!(sleeps, s.sleeps, max),
        },
        Line {
            name: format!("{} tiny spawn_blocking jobs", k(s.blocking)),
            unit: "ms",
            scale: 1e3,
            counted: None,
            runs: s.runs,
            work: on_each_runtime!(blocking, s.blocking),
        },
        Line {
            name: format!("heap per pending task ({} parked)", k(s.pending)),
            unit: "B",
            scale: 1.0,
            counted: None,
            runs: 1, // a counted figure: the same every run
            work: on_each_runtime!(pending_tasks, s.pending),
        },
    ];
    let mut rows = Vec::new();
    for line in lines.into_iter().filter(|l| only(&l.name)) {
        eprintln!("{} ...", line.name);
        let (values, counted) = measure(line.runs, line.work);
        rows.push(Row {
            asyncio: if line.name.starts_with("spawn + join") {
                python_spawn_gather(s.spawn).map(|secs| secs * 1e3)
            } else {
                None
            },
            name: line.name,
            unit: line.unit,
            higher_is_better: false,
            values: values.map(|v| v.map(|v| v * line.scale)),
            counted: line.counted.map(|what| (what, counted)),
        });
    }
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

fn echo_rows(s: &Sizes, only: &dyn Fn(&str) -> bool) -> Vec<Row> {
    // The echo lines share their runs, so they are filtered together.
    if !only("TCP echo") {
        return Vec::new();
    }
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

/// hyper "hello" on looplet and on tokio's current-thread runtime (smol
/// has no hyper glue of its own, so its column stays empty).
fn http_rows(s: &Sizes, only: &dyn Fn(&str) -> bool) -> Vec<Row> {
    if !only("hyper") {
        return Vec::new();
    }
    let (conns, requests) = s.http;
    eprintln!("hyper hello, {conns} connections ...");
    let runtimes = ["looplet", "tokio"];
    let mut rates: [Vec<f64>; 2] = Default::default();
    let mut cpu: [Vec<f64>; 2] = Default::default();
    for _ in 0..s.runs.min(3) {
        for (i, rt) in runtimes.iter().enumerate() {
            let r = http::run(rt, conns, requests);
            rates[i].push(r.requests_per_sec);
            cpu[i].push(r.cpu_per_request_us);
        }
    }
    let [rate_l, rate_t] = rates.map(median);
    let [cpu_l, cpu_t] = cpu.map(median);
    vec![
        Row {
            name: format!("hyper hello, {conns} keep-alive conns x {requests} requests"),
            unit: "req/s",
            higher_is_better: true,
            values: [rate_l, rate_t, None],
            counted: None,
            asyncio: None,
        },
        Row {
            name: "hyper hello: server CPU per request".to_string(),
            unit: "us",
            higher_is_better: false,
            values: [cpu_l, cpu_t, None],
            counted: None,
            asyncio: None,
        },
    ]
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

/// The best of the other runtimes on `row` (lowest cost, or highest
/// rate), and looplet's ratio to it, in the same sense as `ratio`: below
/// 1.00, looplet did better than every peer.
fn best_peer(row: &Row) -> Option<(&'static str, f64)> {
    let looplet = row.values[0]?;
    let peers = [
        ("tokio", row.values[1]),
        ("smol", row.values[2]),
        ("asyncio", row.asyncio),
    ];
    let (name, best) = peers
        .into_iter()
        .filter_map(|(name, v)| Some((name, v?)))
        .reduce(|a, b| match (row.higher_is_better, b.1 > a.1) {
            (true, true) | (false, false) => b,
            _ => a,
        })?;
    let ratio = if row.higher_is_better {
        best / looplet
    } else if best == 0.0 {
        return None;
    } else {
        looplet / best
    };
    Some((name, ratio))
}

fn print_table(rows: &[Row]) {
    println!(
        "\n{:<52} {:>6} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8} {:>7}",
        "workload", "unit", "looplet", "tokio", "smol", "asyncio", "l/tokio", "best", "l/best"
    );
    println!("{}", "-".repeat(129));
    for row in rows {
        let best = best_peer(row);
        println!(
            "{:<52} {:>6} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8} {:>7}",
            row.name,
            row.unit,
            fmt(row.values[0]),
            fmt(row.values[1]),
            fmt(row.values[2]),
            fmt(row.asyncio),
            fmt(ratio(row)),
            best.map_or("-", |(name, _)| name),
            fmt(best.map(|(_, r)| r)),
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
    println!("a rate, tokio's rate over looplet's). Below 1.00, looplet did better.");
    println!("best, l/best: the best of tokio, smol and asyncio on that line, and looplet's");
    println!("ratio to it in the same sense: below 1.00, looplet beat every peer.");
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
            "  {{\"workload\": \"{}\", \"unit\": \"{}\", \"looplet\": {}, \"tokio\": {}, \"smol\": {}, \"asyncio\": {}, \"ratio_looplet_tokio\": {}, \"best_peer\": {}, \"ratio_looplet_best\": {}, \"counted\": {counted}}}{}\n",
            row.name,
            row.unit,
            num(row.values[0]),
            num(row.values[1]),
            num(row.values[2]),
            num(row.asyncio),
            num(ratio(row)),
            best_peer(row).map_or("null".to_string(), |(name, _)| format!("\"{name}\"")),
            num(best_peer(row).map(|(_, r)| r)),
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
    // The task table and run queue grow by doubling, which adds a few
    // allocations over a whole run: far below 0.05 per spawn. (A line left
    // out with --only is not checked.)
    if let Some(per_spawn) = counted("allocs/spawn").filter(|&n| n > 1.05) {
        return Err(format!(
            "looplet made {per_spawn:.2} allocations per spawn; the budget is 1"
        ));
    }
    if let Some(per_wake) = counted("allocs/wake").filter(|&n| n > 0.001) {
        return Err(format!(
            "looplet made {per_wake:.4} allocations per wake; the budget is 0"
        ));
    }
    // One read and one write per echoed message is the floor; start-up and
    // each connection's accept, registration and close add a little over a
    // run (None: strace was missing or not allowed, so nothing was counted).
    let syscalls = rows
        .iter()
        .find(|r| r.name.starts_with("server syscalls per echoed message"))
        .and_then(|r| r.values[0]);
    if let Some(per_message) = syscalls.filter(|&n| n > 2.05) {
        return Err(format!(
            "looplet's echo server made {per_message:.3} syscalls per message; the budget is 2.05"
        ));
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--echo-server") => return echo::serve(&args[1]),
        Some("--http-server") => return http::serve(&args[1]),
        // A load alone, against a server started by hand (to strace it).
        Some("--http-load") => return http::load_alone(&args[1], &args[2], &args[3]),
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
    let filter = args.iter().position(|a| a == "--only").map(|i| {
        args.get(i + 1)
            .expect("--only needs a word, such as ping-pong or echo")
            .clone()
    });
    let only = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    let sizes = if quick { Sizes::quick() } else { Sizes::full() };
    let start = std::time::Instant::now();
    let mut rows = in_process_rows(&sizes, &only);
    rows.extend(echo_rows(&sizes, &only));
    rows.extend(http_rows(&sizes, &only));
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

//! The runtime's files import each other one way only. `runtime/src/lib.rs`
//! gives a reading order in which each file uses only those before it; this
//! test keeps that true by failing on any import cycle between the crate's
//! top-level modules.
//!
//! It reads the source as text: every `crate::NAME` outside a comment is an
//! edge from the file's module to the module NAME (or, for an item the crate
//! root re-exports, such as `crate::spawn`, to the module it comes from).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module name -> the modules it uses.
type Graph = BTreeMap<String, BTreeSet<String>>;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime/src")
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to: `net/tcp.rs` is in `net`.
fn module_of(file: &Path) -> String {
    let relative = file.strip_prefix(src()).unwrap();
    let first = relative.components().next().unwrap();
    let name = first.as_os_str().to_str().unwrap();
    name.trim_end_matches(".rs").to_string()
}

/// Lines of code, without comments (doc comments included).
fn code_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .filter(|line| !line.trim().is_empty())
}

/// The names that follow `crate::` on a line, `crate::{a, b}` included.
fn crate_paths(line: &str) -> Vec<String> {
    let mut names = Vec::new();
    for part in line.split("crate::").skip(1) {
        if let Some(group) = part.strip_prefix('{') {
            let group = group.split('}').next().unwrap_or("");
            for item in group.split(',') {
                names.push(leading_ident(item.trim()));
            }
        } else {
            names.push(leading_ident(part));
        }
    }
    names.retain(|n| !n.is_empty());
    names
}

fn leading_ident(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// The crate's modules, and the module each root re-export comes from.
fn modules_and_reexports() -> (BTreeSet<String>, BTreeMap<String, String>) {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let mut modules = BTreeSet::new();
    let mut reexports = BTreeMap::new();
    for line in code_lines(&lib) {
        let line = line.trim();
        if let Some(rest) = line
            .strip_prefix("pub mod ")
            .or_else(|| line.strip_prefix("mod "))
        {
            modules.insert(rest.trim_end_matches(';').trim().to_string());
        } else if let Some(rest) = line.strip_prefix("pub use ") {
            let (module, items) = rest.split_once("::").unwrap();
            let items = items
                .trim_end_matches(';')
                .trim_matches(|c| c == '{' || c == '}');
            for item in items.split(',') {
                reexports.insert(leading_ident(item.trim()), module.to_string());
            }
        }
    }
    (modules, reexports)
}

fn graph() -> Graph {
    let (modules, reexports) = modules_and_reexports();
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut graph = Graph::new();
    for file in files {
        let from = module_of(&file);
        if from == "lib" {
            continue; // the root declares and re-exports; it is not a layer
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for line in code_lines(&text) {
            for name in crate_paths(line) {
                let to = if modules.contains(&name) {
                    name
                } else if let Some(module) = reexports.get(&name) {
                    module.clone()
                } else {
                    continue; // `crate::__private` and the like
                };
                if to != from {
                    graph.entry(from.clone()).or_default().insert(to);
                }
            }
        }
    }
    graph
}

/// One cycle of the graph, if there is any, as a path that ends where it began.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, graph, &mut Vec::new(), &mut done) {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn the_runtime_modules_import_each_other_one_way() {
    let graph = graph();
    assert!(
        graph.contains_key("executor"),
        "the source was read: {graph:?}"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "import cycle between runtime modules: {}. Move what both need \
             into a module below them (see the reading order in runtime/src/lib.rs).",
            cycle.join(" -> ")
        );
    }
}

#[test]
fn the_checker_finds_a_cycle_when_there_is_one() {
    let mut graph = Graph::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("c".into());
    assert_eq!(find_cycle(&graph), None);
    graph.entry("c".into()).or_default().insert("a".into());
    assert_eq!(
        find_cycle(&graph).unwrap(),
        ["a", "b", "c", "a"].map(String::from)
    );
}

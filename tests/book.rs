//! The book includes code from the real files with `{{#include path:anchor}}`
//! so it cannot drift from them. mdBook renders a missing anchor as nothing
//! and still exits 0, so this test is what catches it: every include must
//! name a file that exists and, if it names an anchor, a file that has both
//! `ANCHOR: name` and `ANCHOR_END: name`.

use std::fs;
use std::path::{Path, PathBuf};

fn chapters(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("book/src exists") {
        let path = entry.unwrap().path();
        if path.is_dir() {
            chapters(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

/// Every `{{#include ...}}` / `{{#rustdoc_include ...}}` argument in `text`.
fn includes(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for directive in ["{{#include ", "{{#rustdoc_include "] {
        let mut rest = text;
        while let Some(start) = rest.find(directive) {
            let after = &rest[start + directive.len()..];
            let end = after.find("}}").expect("an include is closed by }}");
            found.push(after[..end].trim().to_string());
            rest = &after[end..];
        }
    }
    found
}

#[test]
fn every_book_include_names_an_existing_file_and_anchor() {
    let book = Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src");
    let mut files = Vec::new();
    chapters(&book, &mut files);
    assert!(!files.is_empty(), "no chapters found in {}", book.display());
    let mut problems = Vec::new();
    let mut checked = 0;
    for chapter in &files {
        let text = fs::read_to_string(chapter).unwrap();
        for include in includes(&text) {
            checked += 1;
            // path, path:anchor, or path:start:end (line numbers)
            let mut parts = include.splitn(2, ':');
            let path = parts.next().unwrap();
            let selector = parts.next();
            let target = chapter.parent().unwrap().join(path);
            let Ok(source) = fs::read_to_string(&target) else {
                problems.push(format!("{}: {include}: no such file", chapter.display()));
                continue;
            };
            let Some(anchor) = selector.filter(|s| !s.starts_with(|c: char| c.is_ascii_digit()))
            else {
                continue;
            };
            for marker in [format!("ANCHOR: {anchor}"), format!("ANCHOR_END: {anchor}")] {
                let present = source
                    .lines()
                    .any(|line| line.trim_end().ends_with(&marker) && line.contains(&marker));
                if !present {
                    problems.push(format!(
                        "{}: {include}: `{marker}` not found in {}",
                        chapter.display(),
                        target.display()
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "broken book includes:\n{}",
        problems.join("\n")
    );
    eprintln!("checked {checked} includes in {} chapters", files.len());
}

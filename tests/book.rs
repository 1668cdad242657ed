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

/// No Rust block of more than three lines is typed into the book: longer
/// code is included from a file that CI compiles, so it cannot rot. The
/// one exception is a quotation of std's own definitions, whose block
/// starts with a `// In std` line.
#[test]
fn no_rust_block_longer_than_three_lines_is_pasted_into_the_book() {
    let book = Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src");
    let mut files = Vec::new();
    chapters(&book, &mut files);
    let mut problems = Vec::new();
    for chapter in &files {
        let text = fs::read_to_string(chapter).unwrap();
        let mut lines = text.lines().enumerate();
        while let Some((at, line)) = lines.next() {
            if !line.trim_start().starts_with("```rust") {
                continue;
            }
            let body: Vec<&str> = lines
                .by_ref()
                .map(|(_, l)| l)
                .take_while(|l| !l.trim_start().starts_with("```"))
                .collect();
            let included = body
                .iter()
                .any(|l| l.contains("{{#include") || l.contains("{{#rustdoc_include"));
            let quoted_std = body
                .first()
                .is_some_and(|l| l.trim_start().starts_with("// In std"));
            if body.len() > 3 && !included && !quoted_std {
                problems.push(format!(
                    "{}:{}: a Rust block of {} lines is pasted; include it from a file CI compiles",
                    chapter.display(),
                    at + 1,
                    body.len()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every internal link of the rendered book leads somewhere: the file
/// exists, and a `#fragment` names an `id` in it. mdBook warns about none
/// of this. It needs the built book, so it is ignored by a plain
/// `cargo test`; CI runs it right after `mdbook build book`:
/// `cargo test -p tests --test book -- --ignored`.
#[test]
#[ignore = "needs the rendered book: run `mdbook build book` first"]
fn rendered_book_links_and_anchors_resolve() {
    let site = Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/book");
    let mut pages = Vec::new();
    html_pages(&site, &mut pages);
    assert!(
        !pages.is_empty(),
        "no rendered pages in {}: run `mdbook build book`",
        site.display()
    );
    let mut problems = Vec::new();
    let mut checked = 0;
    for page in &pages {
        let html = fs::read_to_string(page).unwrap();
        for href in attribute_values(&html, "href=\"") {
            let external = ["http:", "https:", "mailto:", "//", "javascript:"];
            if external.iter().any(|p| href.starts_with(p)) {
                continue;
            }
            let (file, fragment) = href.split_once('#').unwrap_or((href.as_str(), ""));
            let target = if file.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap().join(file)
            };
            checked += 1;
            let Ok(target_html) = fs::read_to_string(&target) else {
                if !target.exists() {
                    problems.push(format!("{}: {href}: no such file", page.display()));
                }
                continue; // an asset (a font, an image) that exists
            };
            if !fragment.is_empty() && !target_html.contains(&format!("id=\"{fragment}\"")) {
                problems.push(format!(
                    "{}: {href}: no id \"{fragment}\" there",
                    page.display()
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "broken links in the book:\n{}",
        problems.join("\n")
    );
    eprintln!("checked {checked} internal links in {} pages", pages.len());
}

fn html_pages(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            html_pages(&path, out);
        } else if path.extension().is_some_and(|e| e == "html") {
            out.push(path);
        }
    }
}

/// The values of every `name"..."` attribute in `html` (`name` ends with
/// the opening quote, such as `href="`).
fn attribute_values(html: &str, name: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(name) {
        let after = &rest[start + name.len()..];
        let end = after.find('"').unwrap_or(after.len());
        found.push(after[..end].to_string());
        rest = &after[end..];
    }
    found
}

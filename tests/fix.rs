//! `snipcheck fix`: the diff shows exactly the safe fixes, a write applies them and only
//! them, and a check afterwards finds those names resolved; `--update-output` rewrites
//! the expected outputs that differ, in every format that has them, and a check afterwards
//! passes those snippets.

use std::path::Path;

use crate::support::{command_in, stderr, stdout};

/// A copy of the fixture folder's files, so the fixes can be written.
fn copy_of(folder: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    dir
}

fn copy_of_fixture() -> tempfile::TempDir {
    copy_of("fixtures/fix")
}

#[test]
fn fix_diff_shows_the_safe_fixes_and_writes_nothing() {
    let dir = copy_of_fixture();
    let before = std::fs::read_to_string(dir.path().join("notes.md")).unwrap();
    let output = command_in(dir.path(), &["fix", "--diff"]).output().unwrap();
    // The unsafe fix (a function offered for the claimed class `Loads`) remains.
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    insta::assert_snapshot!("fix_diff", stdout(&output));
    insta::assert_snapshot!("fix_diff_summary", stderr(&output));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("notes.md")).unwrap(),
        before
    );
}

#[test]
fn fix_applies_the_safe_fixes_and_a_check_then_resolves_them() {
    let dir = copy_of_fixture();
    let before = std::fs::read_to_string(dir.path().join("notes.md")).unwrap();
    let output = command_in(dir.path(), &["fix"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let after = std::fs::read_to_string(dir.path().join("notes.md")).unwrap();
    // Only the lines with a safe fix changed.
    let changed: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(
        changed,
        [
            (
                "The `json` module provides a `parse` function.",
                "The `json` module provides a `loads` function."
            ),
            (
                "Some people call `json.parse`, which does not exist.",
                "Some people call `json.loads`, which does not exist."
            ),
            (
                "The `collections` module provides an `Ordereddict` class.",
                "The `collections` module provides an `OrderedDict` class."
            ),
        ]
    );
    assert_eq!(before.lines().count(), after.lines().count());
    let check = command_in(dir.path(), &["check", "--format", "json"])
        .output()
        .unwrap();
    let record: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    let unresolved: Vec<&str> = record["references"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "unresolved")
        .map(|r| r["text"].as_str().unwrap())
        .collect();
    assert_eq!(unresolved, ["Loads"]);

    // --unsafe-fixes takes the last one too; then nothing remains.
    let output = command_in(dir.path(), &["fix", "--unsafe-fixes"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let after = std::fs::read_to_string(dir.path().join("notes.md")).unwrap();
    assert!(after.contains("provides a `loads` class."), "{after}");
}

#[test]
fn fix_refuses_a_document_it_cannot_write() {
    let dir = copy_of_fixture();
    let notes = dir.path().join("notes.md");
    let before = std::fs::read_to_string(&notes).unwrap();
    let mut permissions = std::fs::metadata(&notes).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&notes, permissions).unwrap();
    let output = command_in(dir.path(), &["fix"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("notes.md is not writable; nothing written"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), before);
}

/// The documents of the `--update-output` fixture: one per format with expected output.
const OUTPUT_DOCUMENTS: [&str; 5] = [
    "sessions.md",
    "sessions.txt",
    "sphinx.rst",
    "shapes.py",
    "page.html",
];

fn read_all(dir: &Path) -> Vec<String> {
    OUTPUT_DOCUMENTS
        .iter()
        .map(|name| std::fs::read_to_string(dir.join(name)).unwrap())
        .collect()
}

/// `before` with the hunks of `diff` (one document's unified diff) applied, each context
/// and removed line checked against `before`.
fn patched(before: &str, diff: &str) -> String {
    let old: Vec<&str> = before.lines().collect();
    let mut out: Vec<&str> = Vec::new();
    let mut at = 0;
    for line in diff.lines().skip(2) {
        if let Some(header) = line.strip_prefix("@@ -") {
            let start: usize = header.split([',', ' ']).next().unwrap().parse().unwrap();
            // An empty range (`-0,0`) starts after line 0; others at their line.
            let start = start.max(1) - 1;
            out.extend(&old[at..start]);
            at = start;
        } else if let Some(added) = line.strip_prefix('+') {
            out.push(added);
        } else {
            let (kept, text) = (line.starts_with(' '), &line[1..]);
            assert_eq!(old[at], text, "the diff does not match the document");
            if kept {
                out.push(text);
            }
            at += 1;
        }
    }
    out.extend(&old[at..]);
    out.join("\n") + "\n"
}

/// One document's part of `fix --diff`'s output.
fn diff_of<'a>(diff: &'a str, name: &str) -> &'a str {
    let start = diff.find(&format!("--- a/{name}\n")).unwrap();
    let end = diff[start + 1..]
        .find("--- a/")
        .map_or(diff.len(), |at| start + 1 + at);
    &diff[start..end]
}

#[test]
fn update_output_diff_shows_each_rewrite_and_writes_nothing() {
    let dir = copy_of("fixtures/fix/output");
    let before = read_all(dir.path());
    let output = command_in(dir.path(), &["fix", "--update-output", "--diff"])
        .output()
        .unwrap();
    // Three stay: #> comments spread over the code, and two loose comparisons.
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    insta::assert_snapshot!("update_output_diff", stdout(&output));
    insta::assert_snapshot!("update_output_diff_summary", stderr(&output));
    assert_eq!(read_all(dir.path()), before);
}

#[test]
fn update_output_writes_what_the_diff_shows_and_the_snippets_then_pass() {
    let dir = copy_of("fixtures/fix/output");
    let before = read_all(dir.path());
    let diff = command_in(dir.path(), &["fix", "--update-output", "--diff"])
        .output()
        .unwrap();
    let diff = stdout(&diff);
    let output = command_in(dir.path(), &["fix", "--update-output"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).ends_with("snipcheck: 17 fixes applied, 3 remaining\n"),
        "{}",
        stderr(&output)
    );
    // Each document is its old text with the diff's hunks and nothing else.
    for ((name, old), new) in OUTPUT_DOCUMENTS
        .iter()
        .zip(&before)
        .zip(read_all(dir.path()))
    {
        assert_eq!(new, patched(old, diff_of(&diff, name)), "{name}");
    }
    let check = command_in(dir.path(), &["check", "--format", "json"])
        .output()
        .unwrap();
    let record: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    let failed: Vec<String> = record["snippets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "failed")
        .map(|s| {
            format!(
                "{} {}",
                s["path"].as_str().unwrap(),
                s["id"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        failed,
        [
            "sessions.md comments-2",
            "sessions.md loose-purpose",
            "sphinx.rst sessions-4"
        ]
    );
    let passed = record["summary"]["passed"].as_u64().unwrap();
    assert_eq!(passed, 13, "{}", stdout(&check));
    // Nothing is left that an update would rewrite.
    let again = command_in(dir.path(), &["fix", "--update-output", "--diff"])
        .output()
        .unwrap();
    assert_eq!(stdout(&again), "");
}

#[test]
fn names_are_fixed_in_notebooks_and_html_and_nothing_else_changes() {
    let dir = copy_of("fixtures/fix/formats");
    let output = command_in(dir.path(), &["fix", "--diff"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    insta::assert_snapshot!("fix_notebook_html_diff", stdout(&output));
    let before = std::fs::read_to_string(dir.path().join("analysis.ipynb")).unwrap();

    let output = command_in(dir.path(), &["fix"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let after = std::fs::read_to_string(dir.path().join("analysis.ipynb")).unwrap();
    // Still the same notebook, its escapes untouched, with the name in the cell fixed.
    assert_eq!(after, before.replace("json.laods", "json.loads"));
    let cells: serde_json::Value = serde_json::from_str(&after).unwrap();
    assert!(cells["cells"][1]["source"][2]
        .as_str()
        .unwrap()
        .ends_with("json.loads(text)"));
    let check = command_in(dir.path(), &["check", "--format", "json"])
        .output()
        .unwrap();
    let record: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(record["references"], serde_json::json!([]));
}

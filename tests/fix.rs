//! `snipcheck fix`: the diff shows exactly the safe fixes, a write applies them and only
//! them, and a check afterwards finds those names resolved.

use std::path::Path;

use crate::support::{command_in, stderr, stdout};

/// A copy of the fixture folder, so the fixes can be written.
fn copy_of_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    for file in ["notes.md", "snipcheck.yaml"] {
        std::fs::copy(Path::new("fixtures/fix").join(file), dir.path().join(file)).unwrap();
    }
    dir
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

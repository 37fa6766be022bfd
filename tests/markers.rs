//! Markers and setup fixtures: every marker form in Markdown, config entries for plain
//! text, fixtures by config and by marker, the hints an undefined name gets, and the
//! errors bad markers and entries give.

use crate::support::{
    assert_valid, command_in, json_record, record_schema, root, snipcheck, stable_settings, stderr,
    stdout,
};

const CONFIG: &str = "fixtures/markers/snipcheck.yaml";

fn field(value: &serde_json::Value) -> String {
    value.as_str().unwrap_or("-").to_string()
}

/// (id, status, category, expected) of every snippet.
fn verdicts(record: &serde_json::Value) -> Vec<[String; 4]> {
    record["snippets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            [
                field(&s["id"]),
                field(&s["status"]),
                field(&s["category"]),
                field(&s["expected"]),
            ]
        })
        .collect()
}

fn rows(rows: &[[&str; 4]]) -> Vec<[String; 4]> {
    rows.iter().map(|r| r.map(String::from)).collect()
}

#[test]
fn every_marker_and_fixture() {
    let record = json_record(command_in(&root(), &["check", "--config", CONFIG]), 1);
    assert_valid(&record_schema(), &record);
    assert_eq!(
        verdicts(&record),
        rows(&[
            ["skipped-reason", "skipped", "skipped", "-"],
            ["skipped-by-info-string", "skipped", "skipped", "-"],
            ["expected-fail", "passed", "missing-module", "failure"],
            ["expected-fail-but-passes", "failed", "passed", "failure"],
            [
                "expected-missing-name",
                "passed",
                "missing-name",
                "missing-name"
            ],
            [
                "expected-missing-name-other-failure",
                "failed",
                "undefined-name",
                "missing-name"
            ],
            ["its-own-time-limit", "failed", "timeout", "-"],
            [
                "expected-time-out-from-info-string",
                "passed",
                "timeout",
                "timeout"
            ],
            ["fixture-by-marker", "passed", "passed", "-"],
            ["fixture-from-config", "passed", "passed", "-"],
            ["one-session-two-blocks", "passed", "passed", "-"],
            ["one-session-two-blocks-2", "passed", "passed", "-"],
            ["needs-context", "failed", "undefined-name", "-"],
            ["defines-greeting", "passed", "passed", "-"],
            ["uses-greeting", "failed", "undefined-name", "-"],
            [
                "module-not-installed-here",
                "passed",
                "missing-module",
                "failure"
            ],
            ["platform-specific", "skipped", "skipped", "-"],
            ["fixture-named-entry", "passed", "passed", "-"],
            ["slow-loop", "passed", "timeout", "timeout"],
            ["fixture-that-fails", "failed", "exception", "-"],
        ])
    );
    stable_settings().bind(|| insta::assert_json_snapshot!("markers_record", record));
}

#[test]
fn without_fixtures_the_hints_name_them() {
    let record = json_record(
        command_in(
            &root(),
            &[
                "check",
                "fixtures/markers/markers.md",
                "fixtures/markers/notes.txt",
                "--config",
                CONFIG,
                "--no-fixtures",
            ],
        ),
        1,
    );
    let snippets = record["snippets"].as_array().unwrap();
    assert!(snippets.iter().all(|s| s.get("fixtures").is_none()));
    let hints: Vec<(String, String, String)> = snippets
        .iter()
        .filter(|s| s["category"] == "undefined-name" && s["expected"].is_null())
        .map(|s| {
            (
                field(&s["id"]),
                field(&s["error"]["message"]),
                field(&s["suggestions"][0]),
            )
        })
        .collect();
    insta::assert_debug_snapshot!("markers_no_fixtures_hints", hints);
}

#[test]
fn bad_markers_and_entries_are_errors_with_their_line() {
    let output = snipcheck(&[
        "check",
        "--config",
        "fixtures/markers/bad/snipcheck.yaml",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let record = crate::support::record(&output);
    insta::assert_json_snapshot!("markers_errors", record["diagnostics"]);
    // A typo in an entry's key stops the run before anything runs, with file, line and
    // column and the valid keys.
    let output = snipcheck(&["check", "--config", "fixtures/markers/bad/bad-key.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout(&output).is_empty());
    insta::assert_snapshot!("markers_bad_key", stderr(&output));
}

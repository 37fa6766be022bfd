//! The result cache shared and abused: several checks at once on one cache folder, a
//! corrupt or foreign file where the cache should be, and `snipcheck cache`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use crate::support::{
    command_in, gate_workspace as workspace, json_record, snippet_verdicts, stderr, stdout,
};

/// The standard-library environment every test shares (built once under the target folder),
/// so that a fresh cache folder does not build one of its own.
fn environment() -> &'static Path {
    static ENV: OnceLock<PathBuf> = OnceLock::new();
    ENV.get_or_init(|| {
        let dir = workspace();
        let record = json_record(command_in(dir.path(), &["check"]), 1);
        PathBuf::from(record["python"]["prefix"].as_str().unwrap())
    })
}

/// `snipcheck check` in `dir` with the result cache on, kept in `cache`.
fn cached(dir: &Path, cache: &Path, extra: &[&str]) -> Command {
    let mut args = vec!["check", "-v", "--python-env"];
    args.push(environment().to_str().unwrap());
    args.extend(extra);
    let mut command = command_in(dir, &args);
    command
        .env_remove("SNIPCHECK_NO_CACHE")
        .env("SNIPCHECK_CACHE_DIR", cache);
    command
}

fn expected() -> Vec<(String, String)> {
    [
        ("adding", "passed"),
        ("averaging", "undefined-name"),
        ("joining", "passed"),
    ]
    .iter()
    .map(|(id, category)| (id.to_string(), category.to_string()))
    .collect()
}

fn json_of(output: &Output) -> serde_json::Value {
    assert_eq!(output.status.code(), Some(1), "{}", stderr(output));
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "not a record ({err}): {}\n{}",
            stdout(output),
            stderr(output)
        )
    })
}

fn cached_count(output: &Output) -> Option<String> {
    stderr(output)
        .lines()
        .find(|l| l.contains("from the result cache"))
        .map(str::to_string)
}

#[test]
fn checks_at_once_on_one_cache_folder_all_succeed_with_correct_verdicts() {
    let cache = tempfile::tempdir().unwrap();
    // Two copies of the documents, the second edited: two checks of each at once, writing
    // the same entries and different ones into the same cache.
    let (first, second) = (workspace(), workspace());
    let notes = second.path().join("notes.md");
    let text = std::fs::read_to_string(&notes).unwrap();
    std::fs::write(&notes, text.replace("1 + 1 == 2", "2 + 2 == 4")).unwrap();
    let children: Vec<_> = [&first, &first, &second, &second]
        .iter()
        .map(|dir| {
            cached(dir.path(), cache.path(), &["--format", "json"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(!stderr(&output).contains("warning"), "{}", stderr(&output));
        assert_eq!(snippet_verdicts(&json_of(&output)), expected());
    }
    // Everything the four learnt is there, for either copy.
    for dir in [&first, &second] {
        let warm = cached(dir.path(), cache.path(), &["--format", "json"])
            .output()
            .unwrap();
        assert_eq!(
            cached_count(&warm).as_deref(),
            Some("snipcheck: 3 verdicts from the result cache, 0 snippets run")
        );
        assert_eq!(snippet_verdicts(&json_of(&warm)), expected());
    }
}

/// Puts `damage` where the cache's file is, then checks: one warning naming the file and
/// where it went, correct verdicts, and a cache that works again on the next run.
fn survives(damage: impl Fn(&Path)) {
    let dir = workspace();
    let cache = tempfile::tempdir().unwrap();
    let file = cache.path().join("results.sqlite");
    damage(&file);
    let output = cached(dir.path(), cache.path(), &["--format", "json"])
        .output()
        .unwrap();
    let err = stderr(&output);
    let warning = err
        .lines()
        .find(|l| l.starts_with("snipcheck: warning: "))
        .unwrap_or_else(|| panic!("no warning: {err}"));
    assert!(
        warning.contains(&format!(
            "the result cache {} was set aside",
            file.display()
        )),
        "{warning}"
    );
    let aside: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("results.sqlite.set-aside-")
        })
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert!(
        warning.contains(&aside[0].display().to_string()),
        "{warning}"
    );
    assert_eq!(snippet_verdicts(&json_of(&output)), expected());
    let again = cached(dir.path(), cache.path(), &[]).output().unwrap();
    assert!(!stderr(&again).contains("warning"), "{}", stderr(&again));
    assert_eq!(
        cached_count(&again).as_deref(),
        Some("snipcheck: 3 verdicts from the result cache, 0 snippets run")
    );
}

#[test]
fn a_corrupt_cache_file_is_set_aside_with_a_warning_and_the_run_goes_on() {
    survives(|file| std::fs::write(file, b"garbage, not a database\n".repeat(200)).unwrap());
}

#[test]
fn a_foreign_database_is_set_aside_with_a_warning_and_the_run_goes_on() {
    survives(|file| {
        let foreign = rusqlite::Connection::open(file).unwrap();
        foreign
            .execute_batch("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);")
            .unwrap();
    });
}

#[test]
fn the_cache_command_shows_the_cache_and_clears_it() {
    let dir = workspace();
    let cache = tempfile::tempdir().unwrap();
    let info = |args: &[&str]| {
        let mut command = command_in(dir.path(), args);
        command.env("SNIPCHECK_CACHE_DIR", cache.path());
        let output = command.output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        stdout(&output)
    };
    let config = dir.path().join("snipcheck.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text + "cache:\n  max_age_days: 7\n  max_size_mb: 64\n",
    )
    .unwrap();
    let file = cache.path().join("results.sqlite");
    let empty = info(&["cache"]);
    assert!(
        empty.starts_with(&format!("result cache: {}\nentries: 0\n", file.display())),
        "{empty}"
    );
    cached(dir.path(), cache.path(), &[]).output().unwrap();
    let full = info(&["cache", "info"]);
    // Three verdicts, the interpreter they came from, what the prose's names resolve to.
    let entries: u64 = full
        .lines()
        .find_map(|l| l.strip_prefix("entries: "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{full}"));
    assert!(entries >= 4, "{full}");
    assert!(full.contains(" kB\n"), "{full}");
    assert!(
        full.contains("evicted: after 7 days unused; least recently used first past 64 MB"),
        "{full}"
    );
    let cleared = info(&["cache", "clear"]);
    assert!(
        cleared.starts_with(&format!("cleared: {entries} entries\n"))
            && cleared.contains("\nentries: 0\n"),
        "{cleared}"
    );
    let again = cached(dir.path(), cache.path(), &[]).output().unwrap();
    assert_eq!(cached_count(&again), None, "{}", stderr(&again));
}

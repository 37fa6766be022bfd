//! The committed record as a CI gate, the result cache, and narrowing a run.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::{
    command_in, field_pairs, gate_workspace as workspace, json_record, stable_settings, stderr,
    stdout,
};

fn run(dir: &Path, args: &[&str]) -> Output {
    command_in(dir, args).output().unwrap()
}

fn edit(dir: &Path, from: &str, to: &str) {
    let path = dir.join("notes.md");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{from} not in the fixture");
    std::fs::write(&path, text.replace(from, to)).unwrap();
}

fn changes(record: &serde_json::Value) -> Vec<(String, String)> {
    field_pairs(&record["baseline"]["changes"], "kind", "id")
}

fn pair(kind: &str, id: &str) -> (String, String) {
    (kind.to_string(), id.to_string())
}

#[test]
fn the_record_gates_on_differences_only() {
    let dir = workspace();
    let dir = dir.path();
    // No record yet: the known failure fails the check.
    assert_eq!(run(dir, &["check"]).status.code(), Some(1));
    let accepted = run(dir, &["accept"]);
    assert_eq!(accepted.status.code(), Some(0), "{}", stderr(&accepted));
    let record_file = std::fs::read_to_string(dir.join("snipcheck.record.yaml")).unwrap();
    let mut settings = insta::Settings::clone_current();
    // How long each snippet took depends on the machine's load.
    settings.add_filter(r"duration_ms: \d+", "duration_ms: [ms]");
    settings.bind(|| insta::assert_snapshot!("gate_record_file", record_file));

    // Recorded: the same failure passes the gate.
    let output = run(dir, &["check"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("0 changes that matter, 1 known failure unchanged"));

    // A broken example is a new failure, named.
    edit(dir, "assert 1 + 1 == 2", "assert 1 + 1 == 3");
    let record = json_record(command_in(dir, &["check"]), 1);
    assert_eq!(changes(&record), vec![pair("new-failure", "adding")]);
    let human = stdout(&run(dir, &["check"]));
    let tail = &human[human.find("compared with").unwrap()..];
    stable_settings().bind(|| insta::assert_snapshot!("gate_new_failure", tail));

    // Fixing the known failure asks for the record to be brought up to date.
    edit(dir, "assert 1 + 1 == 3", "assert 1 + 1 == 2");
    edit(dir, "print(mean(scores))", "print(mean([1, 2, 3]))");
    let record = json_record(command_in(dir, &["check"]), 1);
    assert_eq!(changes(&record), vec![pair("now-passes", "averaging")]);
    assert!(stdout(&run(dir, &["check"])).contains("run `snipcheck accept`"));

    // --update checks and accepts at once; afterwards the gate is green again.
    let output = run(dir, &["check", "--update"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert_eq!(run(dir, &["check"]).status.code(), Some(0));
    let record_file = std::fs::read_to_string(dir.join("snipcheck.record.yaml")).unwrap();
    assert!(!record_file.contains("undefined-name"), "{record_file}");
}

#[test]
fn a_changed_reason_fails_and_a_selected_snippet_is_compared_alone() {
    let dir = workspace();
    let dir = dir.path();
    run(dir, &["check"]);
    run(dir, &["accept"]);
    edit(dir, "print(mean(scores))", "print(mean([]))");
    let mut command = command_in(dir, &["check", "--select", "averaging"]);
    command.env("SNIPCHECK_NO_CACHE", "1");
    let record = json_record(command, 1);
    assert_eq!(record["summary"]["snippets"], 1);
    assert_eq!(changes(&record), vec![pair("changed-reason", "averaging")]);
    // Accepting a selected run rewrites only that snippet.
    run(dir, &["accept"]);
    let record_file = std::fs::read_to_string(dir.join("snipcheck.record.yaml")).unwrap();
    assert!(record_file.contains("StatisticsError"), "{record_file}");
    assert!(record_file.contains("joining"), "{record_file}");
}

#[test]
fn select_by_line_and_unknown_selectors() {
    let dir = workspace();
    let dir = dir.path();
    let record = json_record(command_in(dir, &["check", "--select", "notes.md:21"]), 0);
    let ids: Vec<&str> = record["snippets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["joining"]);
    let output = run(dir, &["check", "--select", "nothing-here"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--select nothing-here: no snippet"),
        "{}",
        stderr(&output)
    );
}

/// The cache's tests run with the cache on, in a cache folder of their own.
fn cached_run(dir: &Path, cache: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["check", "-v"];
    args.extend(extra);
    let mut command = command_in(dir, &args);
    command
        .env_remove("SNIPCHECK_NO_CACHE")
        .env("SNIPCHECK_CACHE_DIR", cache);
    command.output().unwrap()
}

fn ran(output: &Output) -> String {
    let err = stderr(output);
    err.lines()
        .find(|l| l.contains("from the result cache"))
        .map(str::to_string)
        .unwrap_or_else(|| "nothing from the cache".to_string())
}

#[test]
fn a_warm_rerun_runs_nothing_and_an_edit_runs_only_what_changed() {
    let dir = workspace();
    let dir = dir.path();
    let cache = tempfile::tempdir().unwrap();
    let first = cached_run(dir, cache.path(), &[]);
    assert_eq!(ran(&first), "nothing from the cache");
    let second = cached_run(dir, cache.path(), &[]);
    assert_eq!(
        ran(&second),
        "snipcheck: 3 verdicts from the result cache, 0 snippets run"
    );
    assert_eq!(
        stdout(&first),
        stdout(&second),
        "the same report from the cache"
    );

    // Prose above a snippet moves it: still cached, reported at its new lines.
    edit(dir, "# Notes\n", "# Notes\n\nA new paragraph.\n");
    let moved = cached_run(dir, cache.path(), &["--format", "json"]);
    assert_eq!(
        ran(&moved),
        "snipcheck: 3 verdicts from the result cache, 0 snippets run"
    );
    let record: serde_json::Value = serde_json::from_slice(&moved.stdout).unwrap();
    assert_eq!(record["snippets"][1]["error"]["line"], 17);

    // An edited snippet runs again; the others do not.
    edit(dir, "assert 1 + 1 == 2", "assert 2 + 2 == 4");
    let edited = cached_run(dir, cache.path(), &[]);
    assert_eq!(
        ran(&edited),
        "snipcheck: 2 verdicts from the result cache, 1 snippet run"
    );
    // An edited fixture runs the snippets that use it again, and only those.
    let fixture = dir.join("numbers.py");
    let text = std::fs::read_to_string(&fixture).unwrap();
    std::fs::write(&fixture, text.replace("\"b\"]", "\"b\", \"c\"]")).unwrap();
    let refixtured = cached_run(dir, cache.path(), &[]);
    assert_eq!(
        ran(&refixtured),
        "snipcheck: 2 verdicts from the result cache, 1 snippet run"
    );
    // --no-cache runs everything.
    let forced = cached_run(dir, cache.path(), &["--no-cache"]);
    assert_eq!(ran(&forced), "nothing from the cache");
}

#[test]
fn editing_a_module_runs_its_docstring_examples_again() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("counting.py");
    let source = "def one():\n    \"\"\"\n    >>> one()\n    1\n    \"\"\"\n    return 1\n";
    std::fs::write(&module, source).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let first = cached_run(dir.path(), cache.path(), &["counting.py"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    // The docstring is untouched, the code it documents is not: the verdict must follow.
    std::fs::write(&module, source.replace("return 1", "return 2")).unwrap();
    let second = cached_run(dir.path(), cache.path(), &["counting.py"]);
    assert_eq!(ran(&second), "nothing from the cache");
    assert_eq!(second.status.code(), Some(1), "{}", stdout(&second));
}

#[test]
fn changed_since_checks_only_what_git_sees_changed() {
    let dir = workspace();
    let dir = dir.path();
    std::fs::write(dir.join("other.md"), "# Other\n\n```python\nx = 1\n```\n").unwrap();
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .output()
            .unwrap();
        assert!(status.status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "start"]);
    edit(dir, "assert 1 + 1 == 2", "assert 1 + 1 == 2  # edited");
    let record = json_record(
        command_in(
            dir,
            &["check", "notes.md", "other.md", "--changed-since", "HEAD"],
        ),
        1,
    );
    let paths: Vec<&str> = record["snippets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["notes.md"; 3]);
    let output = run(dir, &["check", "--changed-since", "no-such-revision"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--changed-since no-such-revision"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn config_schema_describes_every_section() {
    let output = run(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        &["config", "--schema"],
    );
    assert_eq!(output.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for key in [
        "documents",
        "python",
        "timeout",
        "sandbox",
        "references",
        "record",
        "isolate",
        "cache",
    ] {
        assert!(schema["properties"].get(key).is_some(), "{key} missing");
    }
    assert_eq!(schema["additionalProperties"], false);
}

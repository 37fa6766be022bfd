//! Running the binary the way a user does, and making its output stable for snapshots.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root: tests run the binary from here, as the README does.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `snipcheck ARGS` from the repository root.
///
/// Environments are cached under the target folder, shared by every test, so the
/// standard-library-only environment is built once per machine.
pub fn snipcheck(args: &[&str]) -> Output {
    snipcheck_in(&root(), args)
}

pub fn snipcheck_in(dir: &Path, args: &[&str]) -> Output {
    command_in(dir, args)
        .output()
        .expect("the snipcheck binary runs")
}

/// The command `snipcheck` runs, for tests that add variables or signals.
pub fn command_in(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_snipcheck"));
    command
        .args(args)
        .current_dir(dir)
        .env("SNIPCHECK_CACHE_DIR", cache_dir())
        // Every test runs its snippets: a remembered verdict would let it pass without
        // exercising anything. The cache's own tests remove this.
        .env("SNIPCHECK_NO_CACHE", "1")
        // An activated virtualenv would become the snippets' environment.
        .env_remove("VIRTUAL_ENV")
        .env_remove("NO_COLOR");
    command
}

/// Runs `snipcheck ARGS --format json` from the repository root, checks its exit code, and
/// returns the record.
pub fn check_json(args: &[&str], exit_code: i32) -> serde_json::Value {
    json_record(command_in(&root(), args), exit_code)
}

/// Runs `command` with `--format json`, checks its exit code, and returns the record.
pub fn json_record(mut command: Command, exit_code: i32) -> serde_json::Value {
    let output = command
        .args(["--format", "json"])
        .output()
        .expect("the snipcheck binary runs");
    assert_eq!(
        output.status.code(),
        Some(exit_code),
        "stderr:\n{}",
        stderr(&output)
    );
    record(&output)
}

/// Runs snipcheck from the root with the guide's own cache (.snipcheck/ at the root, shared
/// with the README's command), or in the environment `SNIPCHECK_GUIDE_ENV` names, and checks
/// its exit code.
pub fn check_guide(args: &[&str], exit_code: i32) -> serde_json::Value {
    let mut command = command_in(&root(), args);
    command.env_remove("SNIPCHECK_CACHE_DIR");
    if let Ok(env) = std::env::var("SNIPCHECK_GUIDE_ENV") {
        command.args(["--python-env", &env]);
    }
    json_record(command, exit_code)
}

pub fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("snipcheck-cache")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The JSON record on stdout.
pub fn record(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "stdout is not a JSON record ({err}):\n{}\nstderr:\n{}",
            stdout(output),
            stderr(output)
        )
    })
}

/// Snapshot settings that hide what differs between machines and runs: durations, the
/// interpreter's location, temporary folders.
pub fn stable_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_redaction(".snippets[].duration_ms", "[duration]");
    settings.add_redaction(".python.prefix", "[prefix]");
    settings.add_redaction(".python.version", "[version]");
    settings.add_redaction(".tool.version", "[version]");
    // What the kernel allows differs between machines; tests/hostile.rs checks it.
    settings.add_redaction(".sandbox", "[sandbox]");
    settings.add_filter(r"/tmp/snipcheck-[A-Za-z0-9_]+/work", "[workdir]");
    // Library locations differ between machines; keep only the part below the library root.
    // A path ends at markup too (JUnit and HTML reports).
    settings.add_filter(r#"/[^\s'"<>]*/site-packages/"#, "[site-packages]/");
    settings.add_filter(r#"/[^\s'"<>]*/lib/python3\.\d+/"#, "[stdlib]/");
    settings
}

/// Snapshot settings for text reports: durations and versions vary between runs.
pub fn report_settings() -> insta::Settings {
    let mut settings = stable_settings();
    settings.add_filter(r#"time="[0-9.]+""#, r#"time="[duration]""#);
    settings.add_filter(r"Python 3\.\d+\.\d+", "Python [version]");
    // Only snipcheck's own version: SARIF's "version": "2.1.0" must stay visible.
    let ours = env!("CARGO_PKG_VERSION").replace('.', r"\.");
    settings.add_filter(&format!("snipcheck {ours}"), "snipcheck [version]");
    settings.add_filter(
        &format!(r#""version": "{ours}""#),
        r#""version": "[version]""#,
    );
    settings
}

/// The record's JSON Schema.
pub fn record_schema() -> serde_json::Value {
    serde_json::from_str(include_str!("../crates/report/record.schema.json"))
        .expect("the schema is JSON")
}

/// Fails with every violation when `instance` does not match `schema`.
pub fn assert_valid(schema: &serde_json::Value, instance: &serde_json::Value) {
    let validator = jsonschema::validator_for(schema).expect("a valid JSON Schema");
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

/// The record's snippet with this id.
pub fn snippet_by_id<'a>(record: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    record["snippets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no snippet {id}"))
}

/// Every snippet's category, in record order.
pub fn categories(record: &serde_json::Value) -> Vec<&str> {
    record["snippets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["category"].as_str().unwrap())
        .collect()
}

/// `(id, category)` of every snippet of a JSON record.
pub fn snippet_verdicts(record: &serde_json::Value) -> Vec<(String, String)> {
    field_pairs(&record["snippets"], "id", "category")
}

/// The string fields `first` and `second` of each object of a JSON array.
pub fn field_pairs(items: &serde_json::Value, first: &str, second: &str) -> Vec<(String, String)> {
    let text = |item: &serde_json::Value, field: &str| item[field].as_str().unwrap().to_string();
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|item| (text(item, first), text(item, second)))
        .collect()
}

/// A copy of fixtures/gate (three snippets, one of which fails: `scores` is not defined) in a
/// temporary folder, so tests can edit its documents and keep a cache of their own.
pub fn gate_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(root().join("fixtures/gate")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    dir
}

/// The version a section of fixtures/versions needs, from its heading: "tomllib (3.11)".
fn version_needed(section: &str) -> Option<(u32, u32)> {
    let inside = section.rsplit_once('(')?.1.strip_suffix(')')?;
    let (major, minor) = inside.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// Asserts that a record of fixtures/versions holds `version`'s verdicts: a snippet passes
/// exactly when its section's version is not newer, and the first prints the version. Returns
/// how many failed.
pub fn assert_version_verdicts(record: &serde_json::Value, version: (u32, u32)) -> usize {
    let name = format!("{}.{}", version.0, version.1);
    let mut failures = 0;
    for snippet in record["snippets"].as_array().expect("snippets") {
        let section = snippet["section"].as_str().unwrap();
        let passes = version_needed(section).is_none_or(|needs| needs <= version);
        failures += usize::from(!passes);
        assert_eq!(
            snippet["status"].as_str(),
            Some(if passes { "passed" } else { "failed" }),
            "Python {name}, {section}: {}",
            snippet["error"]
        );
    }
    assert_eq!(
        record["snippets"][0]["stdout"]["text"].as_str(),
        Some(format!("{name}\n").as_str())
    );
    failures
}

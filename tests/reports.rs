//! Every report format from one run over the fixture documents, each snapshotted and each
//! machine format read by a real consumer: the JSON Schemas (record, SARIF 2.1.0), Python's
//! junitparser, and headless Chromium for the HTML page.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::support::{assert_valid, record_schema, report_settings, snipcheck, stderr, stdout};

/// Every format the fixture run writes besides the human report on stdout.
const FILES: [(&str, &str); 7] = [
    ("json", "record.json"),
    ("yaml", "record.yaml"),
    ("junit", "report.xml"),
    ("github", "annotations.txt"),
    ("markdown", "summary.md"),
    ("sarif", "report.sarif"),
    ("html", "report.html"),
];

/// The fixture documents checked once, every format written: (stdout, folder of reports).
fn fixture_reports() -> &'static (String, PathBuf) {
    static REPORTS: OnceLock<(String, PathBuf)> = OnceLock::new();
    REPORTS.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fixture-reports");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let outputs: Vec<String> = FILES
            .iter()
            .map(|(format, file)| format!("{format}={}", dir.join(file).display()))
            .collect();
        let output = snipcheck(&[
            "check",
            "--config",
            "fixtures/check/snipcheck.yaml",
            "--format",
            "human",
            "--output-format",
            &outputs.join(","),
        ]);
        assert_eq!(
            output.status.code(),
            Some(1),
            "stderr:\n{}",
            stderr(&output)
        );
        (stdout(&output), dir)
    })
}

fn report(file: &str) -> String {
    let path = fixture_reports().1.join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn json(file: &str) -> serde_json::Value {
    serde_json::from_str(&report(file)).unwrap()
}

#[test]
fn text_reports_snapshots() {
    let settings = report_settings();
    settings.bind(|| {
        insta::assert_snapshot!("fixture_junit", report("report.xml"));
        insta::assert_snapshot!("fixture_github", report("annotations.txt"));
        insta::assert_snapshot!("fixture_markdown", report("summary.md"));
        insta::assert_snapshot!("fixture_sarif", report("report.sarif"));
        insta::assert_snapshot!("fixture_html", report("report.html"));
    });
}

#[test]
fn every_output_is_the_same_run() {
    let record = json("record.json");
    let yaml: serde_json::Value = serde_yaml::from_str(&report("record.yaml")).unwrap();
    assert_eq!(
        record, yaml,
        "JSON and YAML hold the same record, durations too"
    );
    let failed = record["summary"]["failed"].as_u64().unwrap();
    assert_eq!(failed, 13);
    let annotations = report("annotations.txt");
    assert_eq!(
        annotations
            .lines()
            .filter(|l| l.starts_with("::error "))
            .count() as u64,
        failed
    );
    assert_eq!(
        json("report.sarif")["runs"][0]["results"]
            .as_array()
            .unwrap()
            .len() as u64,
        failed
    );
}

#[test]
fn record_matches_its_json_schema() {
    let schema = record_schema();
    assert_valid(&schema, &json("record.json"));
    // A record with input errors and nothing run (python is null).
    let output = snipcheck(&[
        "check",
        "fixtures/bad/binary.md",
        "--config",
        "fixtures/check/snipcheck.yaml",
        "--format",
        "json",
    ]);
    assert_valid(&schema, &crate::support::record(&output));
}

#[test]
fn sarif_matches_the_sarif_2_1_0_schema() {
    // The OASIS SARIF 2.1.0 schema, kept in the repository so the test runs offline
    // (tests/schemas/README.md says where it comes from).
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("schemas/sarif-schema-2.1.0.json")).unwrap();
    let sarif = json("report.sarif");
    assert_valid(&schema, &sarif);
    assert_eq!(sarif["version"], "2.1.0");
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "syntax-error");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        17
    );
}

/// A virtualenv with the report consumers from the package registry, built once under the
/// target folder. No pip means a failed test, never a skipped one.
fn consumer_python() -> &'static Path {
    const JUNITPARSER: &str = "junitparser==5.0.3";
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-consumers");
        let python = dir.join("bin/python");
        let marker = dir.join(format!("installed {JUNITPARSER}"));
        if !marker.exists() {
            run_ok(
                Command::new("python3")
                    .args(["-m", "venv", "--clear"])
                    .arg(&dir),
            );
            run_ok(Command::new(&python).args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                JUNITPARSER,
            ]));
            std::fs::write(&marker, "").unwrap();
        }
        python
    })
}

fn run_ok(command: &mut Command) -> String {
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("cannot run {command:?}: {err}"));
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// What junitparser reads from a JUnit file: per suite, the declared and the counted totals.
const READ_JUNIT: &str = r#"
import json, sys
from junitparser import JUnitXml, Failure, Error, Skipped
suites = {}
for suite in JUnitXml.fromfile(sys.argv[1]):
    counted = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    types = []
    for case in suite:
        counted["tests"] += 1
        for result in case.result:
            if isinstance(result, Failure):
                counted["failures"] += 1
                types.append(result.type)
            elif isinstance(result, Error):
                counted["errors"] += 1
            elif isinstance(result, Skipped):
                counted["skipped"] += 1
    declared = {"tests": suite.tests, "failures": suite.failures,
                "errors": suite.errors, "skipped": suite.skipped}
    suites[suite.name] = {"counted": counted, "declared": declared, "types": types}
print(json.dumps(suites))
"#;

#[test]
fn junit_reads_back_in_junitparser() {
    let path = fixture_reports().1.join("report.xml");
    let out = run_ok(
        Command::new(consumer_python())
            .args(["-c", READ_JUNIT])
            .arg(&path),
    );
    let suites: serde_json::Value = serde_json::from_str(&out).unwrap();
    let record = json("record.json");
    for document in [
        "fixtures/check/categories.md",
        "fixtures/check/paragraphs.txt",
    ] {
        let snippets: Vec<&serde_json::Value> = record["snippets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["path"] == document)
            .collect();
        let failed: Vec<&str> = snippets
            .iter()
            .filter(|s| s["status"] == "failed")
            .map(|s| s["category"].as_str().unwrap())
            .collect();
        // Claims in the prose are test cases too: unchecked ones are skips, unresolved
        // errors are failures (the fixtures have none of those).
        let references: Vec<&serde_json::Value> = record["references"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["path"] == document)
            .collect();
        let skipped = references
            .iter()
            .filter(|r| r["status"] == "unchecked" || r["status"] == "ignored")
            .count();
        assert!(references
            .iter()
            .all(|r| !(r["status"] == "unresolved" && r["severity"] == "error")));
        let suite = &suites[document];
        let expected = serde_json::json!({
            "tests": snippets.len() + references.len(), "failures": failed.len(),
            "errors": 0, "skipped": skipped,
        });
        assert_eq!(suite["counted"], expected, "{document}: {suite}");
        assert_eq!(suite["declared"], expected, "{document}: {suite}");
        assert_eq!(suite["types"], serde_json::json!(failed), "{document}");
    }
    assert_eq!(suites.as_object().unwrap().len(), 2);
}

/// Loads the report in headless Chromium; returns the DOM after its script ran, and the
/// browser's log (console messages appear there as `CONSOLE` lines).
fn chromium_dom(html: &Path, fragment: &str) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}{fragment}", html.display()))
        .output()
        .expect("chromium runs (Debian package `chromium`; .ci/run installs it)");
    assert!(output.status.success(), "{}", stderr(&output));
    (stdout(&output), stderr(&output))
}

#[test]
fn html_loads_in_chromium_without_console_errors_and_counts_right() {
    let html = fixture_reports().1.join("report.html");
    let (dom, log) = chromium_dom(&html, "");
    let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    assert!(
        dom.contains("data-ready=\"true\""),
        "the script ran to its end"
    );
    for (key, n) in [
        ("snippets", 17),
        ("passed", 4),
        ("failed", 13),
        ("skipped", 0),
    ] {
        assert!(
            dom.contains(&format!("id=\"count-{key}\">{n}</span>")),
            "count of {key}"
        );
    }
    assert!(dom.contains("<span id=\"shown\">17</span>"));
    // One highlighted line per failure that happened on a line of the snippet's code.
    let record = json("record.json");
    let with_line = record["snippets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            let line = &s["error"]["line"];
            line.is_u64()
                && s["line"].as_u64() <= line.as_u64()
                && line.as_u64() <= s["end_line"].as_u64()
        })
        .count();
    assert!(with_line > 0);
    // Once in the list of snippets, once where the example stands in its document.
    assert_eq!(dom.matches("class=\"line hit\"").count(), 2 * with_line);

    // The filters, driven from the address: the script hides what does not match.
    let (dom, _) = chromium_dom(&html, "#failed");
    assert!(
        dom.contains("<span id=\"shown\">13</span>"),
        "status filter"
    );
    let (dom, _) = chromium_dom(&html, "#missing-name");
    assert!(
        dom.contains("<span id=\"shown\">3</span>"),
        "category filter"
    );
    assert_eq!(dom.matches("<details class=\"snippet").count(), 17);
    assert_eq!(dom.matches(" hidden=\"\"").count(), 14);
}

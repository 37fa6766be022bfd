//! Every report format from one run over the fixture documents, each snapshotted and each
//! machine format read by a real consumer: the JSON Schemas (record, SARIF 2.1.0), Python's
//! junitparser, and headless Chromium for the HTML page (with axe-core checking its
//! accessibility in the page).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::support::{
    assert_valid, check_guide, record_schema, report_settings, snipcheck, stderr, stdout,
};

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
    chromium(html, fragment, &[])
}

fn chromium(html: &Path, fragment: &str, extra: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new("chromium")
        .args(extra)
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
        .expect("chromium runs (Debian package `chromium`; .ci/install-test-tools installs it)");
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

/// axe-core from the npm registry, installed once under the target folder. No npm means a
/// failed test, never a skipped one.
fn axe_core() -> &'static Path {
    const AXE: &str = "axe-core@4.14.1";
    static SCRIPT: OnceLock<PathBuf> = OnceLock::new();
    SCRIPT.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("axe-core");
        let script = dir.join("node_modules/axe-core/axe.min.js");
        let marker = dir.join(format!("installed {AXE}"));
        if !marker.exists() {
            std::fs::create_dir_all(&dir).unwrap();
            run_ok(
                Command::new("npm")
                    .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
                    .arg(&dir)
                    .arg(AXE),
            );
            std::fs::write(&marker, "").unwrap();
        }
        script
    })
}

/// Loads a copy of the report in headless Chromium with axe-core and a test script added to
/// the page; the script calls `report(value)` with what it found, which comes back as JSON.
fn run_in_page(html: &Path, test: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(axe_core(), dir.path().join("axe.min.js")).unwrap();
    let page = std::fs::read_to_string(html).unwrap();
    let harness = format!(
        "<script src=\"axe.min.js\"></script>\n<script>\n\
         function report(value) {{ var pre = document.createElement(\"pre\"); pre.id = \"test-result\"; \
         pre.textContent = JSON.stringify(value); document.body.appendChild(pre); }}\n{test}\n</script>\n</body>"
    );
    let copy = dir.path().join("report.html");
    std::fs::write(&copy, page.replacen("</body>", &harness, 1)).unwrap();
    let (dom, log) = chromium(
        &copy,
        "",
        // The size of the screenshot; time for the page's promises (axe runs
        // asynchronously) to settle before the dump.
        &["--window-size=1280,2000", "--virtual-time-budget=60000"],
    );
    let start = dom
        .find("<pre id=\"test-result\">")
        .unwrap_or_else(|| panic!("the test script reported nothing:\n{log}"))
        + "<pre id=\"test-result\">".len();
    let end = start + dom[start..].find("</pre>").unwrap();
    let text = dom[start..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&");
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{err}: {text}"))
}

/// axe's violations of serious or critical impact, and every violation for the message.
const AXE_CHECK: &str = r##"
function axeViolations() {
  return axe.run(document, { resultTypes: ["violations"] }).then(function (result) {
    return result.violations.map(function (v) {
      return { id: v.id, impact: v.impact, help: v.help,
               nodes: v.nodes.slice(0, 3).map(function (n) { return n.target.join(" "); }) };
    });
  });
}
function serious(violations) {
  return violations.filter(function (v) { return v.impact === "serious" || v.impact === "critical"; });
}
"##;

/// The findings list, its links, its keys, and what axe-core finds in the page.
const FIXTURE_PAGE_CHECK: &str = r##"
function key(name) { document.dispatchEvent(new KeyboardEvent("keydown", { key: name, bubbles: true })); }
var links = Array.prototype.map.call(document.querySelectorAll("#findings li a"), function (a) {
  return a.getAttribute("href");
});
var broken = links.filter(function (href) { return !document.getElementById(href.slice(1)); });
var visited = [];
key("j"); visited.push(document.activeElement.id);
key("j"); visited.push(document.activeElement.id);
key("k"); visited.push(document.activeElement.id);
axeViolations().then(function (violations) {
  report({ links: links.length, broken: broken, marks: document.querySelectorAll("[data-finding]").length,
           visited: visited, hash: location.hash, serious: serious(violations), all: violations });
});
"##;

#[test]
fn html_findings_link_to_their_marks_keys_move_between_them_and_axe_finds_nothing_serious() {
    let html = fixture_reports().1.join("report.html");
    let result = run_in_page(&html, &format!("{AXE_CHECK}{FIXTURE_PAGE_CHECK}"));
    let failed = json("record.json")["summary"]["failed"].as_u64().unwrap();
    assert_eq!(result["links"], failed, "{result:#}");
    assert_eq!(result["broken"], serde_json::json!([]), "{result:#}");
    assert_eq!(result["marks"], failed, "one mark per finding: {result:#}");
    assert_eq!(
        result["visited"],
        serde_json::json!(["finding-1", "finding-2", "finding-1"]),
        "{result:#}"
    );
    assert_eq!(result["hash"], "#finding-1");
    assert_eq!(result["serious"], serde_json::json!([]), "{result:#}");
}

/// What a reader of the guide's report sees first, and the Imputer claim in its sentence.
const GUIDE_PAGE_CHECK: &str = r##"
function words(element) {
  var copy = element.cloneNode(true);
  Array.prototype.forEach.call(copy.querySelectorAll(".note"), function (n) { n.remove(); });
  return copy.textContent.replace(/\s+/g, " ");
}
var imputer = Array.prototype.filter.call(document.querySelectorAll("#documents mark.claim"), function (m) {
  return m.textContent === "Imputer" && words(m.parentElement).indexOf("provides an Imputer class") >= 0;
}).map(function (m) {
  var note = m.nextElementSibling;
  return { sentence: words(m.parentElement).indexOf("scikit-learn provides an Imputer class that can be used to impute missing values") >= 0,
           note: note && note.classList.contains("note") ? note.textContent : null };
});
var items = Array.prototype.map.call(document.querySelectorAll("#findings li"), function (li) {
  var box = li.getBoundingClientRect();
  return { severity: li.className, visible: box.top >= 0 && box.top < window.innerHeight,
           quote: (li.querySelector(".quote") || {}).textContent || null };
});
axeViolations().then(function (violations) {
  report({ imputer: imputer, items: items, serious: serious(violations), all: violations });
});
"##;

#[test]
#[ignore = "needs the guide's environment; .ci/run runs it"]
fn guide_report_opens_on_its_findings_each_in_its_sentence() {
    let reports = tempfile::tempdir().unwrap();
    let html = reports.path().join("guide.html");
    let output = format!("html={}", html.display());
    check_guide(&["check", "--output-format", &output], 0);
    let result = run_in_page(&html, &format!("{AXE_CHECK}{GUIDE_PAGE_CHECK}"));
    // The three Imputer claims, each marked in its sentence with the suggestion beside it.
    let imputer = result["imputer"].as_array().unwrap();
    assert_eq!(imputer.len(), 3, "{result:#}");
    for claim in imputer {
        assert_eq!(claim["sentence"], true, "{claim}");
        assert_eq!(
            claim["note"],
            "not found in sklearn \u{2014} did you mean sklearn.impute.SimpleImputer?"
        );
    }
    // The failing example and the eight wrong claims that are errors come first, then the
    // two warnings (Q3's `imgaug.Augmenter` in the code, `r_squared` in the prose), each
    // with its code line or sentence, all on the first screen.
    let items = result["items"].as_array().unwrap();
    let severities: Vec<&str> = items
        .iter()
        .map(|i| i["severity"].as_str().unwrap())
        .collect();
    assert_eq!(severities.len(), 11, "{result:#}");
    assert!(severities[..9].iter().all(|s| *s == "finding error"));
    assert!(severities[9..].iter().all(|s| *s == "finding warning"));
    assert_eq!(items[0]["quote"], "import imgaug");
    assert!(items[1..]
        .iter()
        .all(|i| i["quote"].as_str().is_some_and(|q| q.contains("class")
            || q.contains("r_squared")
            || q.contains("imgaug.Augmenter"))));
    let visible = items.iter().filter(|i| i["visible"] == true).count();
    assert!(
        visible >= 9,
        "{visible} findings on the first screen: {result:#}"
    );
    assert_eq!(result["serious"], serde_json::json!([]), "{result:#}");
}

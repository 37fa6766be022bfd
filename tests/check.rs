//! The main path on fixture documents: every verdict category, plain text and Markdown.

use crate::support::{check_json, record, snipcheck, stable_settings, stderr, stdout};

#[test]
fn every_category_in_markdown_and_plain_text() {
    let record = check_json(&["check", "--config", "fixtures/check/snipcheck.yaml"], 1);
    stable_settings().bind(|| insta::assert_json_snapshot!("fixture_record", record));
}

#[test]
fn human_output_has_a_line_per_snippet_and_a_summary() {
    let output = snipcheck(&["check", "--config", "fixtures/check/snipcheck.yaml"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "stderr:\n{}",
        stderr(&output)
    );
    stable_settings().bind(|| insta::assert_snapshot!("fixture_human", stdout(&output)));
}

#[test]
fn yaml_is_the_same_record() {
    let json = snipcheck(&[
        "check",
        "fixtures/check/paragraphs.txt",
        "--config",
        "fixtures/check/snipcheck.yaml",
        "--format",
        "json",
    ]);
    let yaml = snipcheck(&[
        "check",
        "fixtures/check/paragraphs.txt",
        "--config",
        "fixtures/check/snipcheck.yaml",
        "--format",
        "yaml",
    ]);
    let from_json = record(&json);
    let from_yaml: serde_json::Value = serde_yaml::from_slice(&yaml.stdout).expect("YAML record");
    let strip = |mut value: serde_json::Value| {
        for snippet in value["snippets"].as_array_mut().unwrap() {
            snippet["duration_ms"] = serde_json::Value::Null;
        }
        value
    };
    assert_eq!(strip(from_json), strip(from_yaml));
}

#[test]
fn paths_on_the_command_line_replace_the_configured_documents() {
    let output = snipcheck(&[
        "check",
        "fixtures/check/paragraphs.txt",
        "--config",
        "fixtures/check/snipcheck.yaml",
        "--format",
        "json",
    ]);
    let record = record(&output);
    let paths: Vec<&str> = record["snippets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, vec!["fixtures/check/paragraphs.txt"; 4]);
}

#[test]
fn all_passing_exits_zero_and_report_file_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("ok.md");
    std::fs::write(&doc, "# Fine\n\n```py\nassert 1 + 1 == 2\n```\n").unwrap();
    let report = dir.path().join("report.json");
    let output = snipcheck(&[
        "check",
        doc.to_str().unwrap(),
        "--config",
        "fixtures/check/snipcheck.yaml",
        "--format",
        "json",
        "--output",
        report.to_str().unwrap(),
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr:\n{}",
        stderr(&output)
    );
    assert!(
        output.stdout.is_empty(),
        "the report goes to the file, not stdout"
    );
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(written["summary"]["passed"], 1);
}

#[test]
fn output_to_a_device_writes_through_it_instead_of_replacing_it() {
    let output = snipcheck(&[
        "check",
        "fixtures/check/paragraphs.txt",
        "--config",
        "fixtures/check/snipcheck.yaml",
        "-o",
        "/dev/null",
    ]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "stderr:\n{}",
        stderr(&output)
    );
    let null = std::fs::metadata("/dev/null").unwrap();
    assert!(!null.is_file(), "/dev/null must still be a device");
}

/// What a run decided about each snippet, without the timings that vary between runs.
fn verdicts(record: &serde_json::Value) -> Vec<serde_json::Value> {
    record["snippets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            serde_json::json!([
                s["path"],
                s["id"],
                s["status"],
                s["category"],
                s["suggestions"]
            ])
        })
        .collect()
}

#[test]
fn the_number_of_workers_does_not_change_a_verdict() {
    let config = "fixtures/check/snipcheck.yaml";
    let one = check_json(&["check", "--config", config, "--jobs", "1"], 1);
    let three = check_json(&["check", "--config", config, "--jobs", "3"], 1);
    assert!(verdicts(&one).len() > 3, "{one}");
    assert_eq!(verdicts(&one), verdicts(&three));
    assert_eq!(one["summary"], three["summary"]);
}

#[test]
fn watch_checks_again_when_a_document_changes_on_the_same_warm_worker() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().unwrap();
    let guide = dir.path().join("guide.md");
    // Without a PID namespace a snippet sees its worker as its parent process.
    std::fs::write(
        dir.path().join("snipcheck.yaml"),
        "sandbox:\n  pid_namespace: false\n",
    )
    .unwrap();
    let worker = "```python\nimport os\nprint(\"worker\", os.getppid())\n```\n\n";
    std::fs::write(
        &guide,
        format!("{worker}```python\nassert 1 + 1 == 2\n```\n"),
    )
    .unwrap();
    let mut child = crate::support::command_in(dir.path(), &["watch", "-v", "guide.md"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Lines of both streams, as they come, tagged with their stream.
    let (lines, received) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let out_lines = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = out_lines.send(("out", line));
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(("err", line));
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen: Vec<(&str, String)> = Vec::new();
    // Waits until `count` lines of `stream` contain `text` (the two streams interleave in
    // any order).
    let mut wait_for = |stream: &str, text: &str, count: usize| {
        let matching = |seen: &[(&str, String)]| {
            seen.iter()
                .filter(|(s, l)| *s == stream && l.contains(text))
                .count()
        };
        while matching(&seen) < count {
            assert!(
                Instant::now() < deadline,
                "no {stream} line with `{text}`; seen: {seen:#?}"
            );
            match received.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => seen.push(line),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(_) => panic!("snipcheck watch ended; seen: {seen:#?}"),
            }
        }
    };
    wait_for("out", "2 passed, 0 failed", 1);
    wait_for("err", "watching for changes", 1);
    std::fs::write(
        &guide,
        format!("{worker}```python\nassert 1 + 1 == 3\n```\n"),
    )
    .unwrap();
    wait_for("err", "a file changed; checking again", 1);
    wait_for("out", "1 passed, 1 failed", 1);
    wait_for("err", "watching for changes", 2);
    child.kill().unwrap();
    child.wait().unwrap();
    // Both checks' children were forked by one worker, kept between them.
    let workers: Vec<&String> = seen
        .iter()
        .filter(|(stream, line)| *stream == "out" && line.contains("| worker "))
        .map(|(_, line)| line)
        .collect();
    assert_eq!(workers.len(), 2, "{seen:#?}");
    assert_eq!(workers[0], workers[1]);
}

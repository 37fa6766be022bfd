//! Hostile snippets: each misbehaviour becomes a verdict of its own, and nothing a snippet
//! does can stop the run, hide another result, or read the caller's secrets.

use std::process::Stdio;
use std::time::Duration;

use crate::support::{
    categories, command_in, json_record, record, root, snipcheck, snippet_by_id, stable_settings,
    stderr,
};

/// One line per snippet: what the tests assert and the snapshot shows.
fn verdict_table(record: &serde_json::Value) -> String {
    record["snippets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let notes: Vec<&str> = s["notes"]
                .as_array()
                .map(|n| n.iter().filter_map(|v| v.as_str()).collect())
                .unwrap_or_default();
            format!(
                "{} {} {} {}",
                s["id"].as_str().unwrap(),
                s["category"].as_str().unwrap(),
                s["error"]["type"].as_str().unwrap_or("-"),
                // Process counts vary with timing; keep only whether there was a note.
                if notes.is_empty() { "" } else { "(noted)" }
            )
            .trim_end()
            .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn hostile_record() -> serde_json::Value {
    let mut command = command_in(
        &root(),
        &["check", "--config", "fixtures/hostile/snipcheck.yaml"],
    );
    command.env("SNIPCHECK_FIXTURE_SECRET", "hunter2");
    json_record(command, 1)
}

#[test]
fn every_hostile_snippet_gets_its_own_verdict_and_the_rest_still_runs() {
    let record = hostile_record();
    let table = verdict_table(&record);
    insta::assert_snapshot!("hostile_verdicts", table);

    let by_id = |id: &str| snippet_by_id(&record, id).clone();
    // Floods are capped at 64 KiB and the rest is counted, not lost.
    let flood = by_id("floods-its-output");
    assert_eq!(flood["stdout"]["text"].as_str().unwrap().len(), 64 * 1024);
    assert_eq!(
        flood["stdout"]["truncated_bytes"].as_u64().unwrap() + 64 * 1024,
        200 * 10_001
    );
    assert!(
        by_id("floods-forever")["stdout"]["truncated_bytes"]
            .as_u64()
            .unwrap()
            > 0
    );
    // A closed stdout does not silence the next snippet.
    assert_eq!(
        by_id("prints-after-neighbour-closed-stdout")["stdout"]["text"],
        "stdout works again\n"
    );
    assert_eq!(
        by_id("still-standing")["stdout"]["text"],
        "the document ran to the end\n"
    );
    assert_eq!(by_id("sentinel")["status"], "passed");
}

#[test]
fn the_record_says_which_protections_were_active() {
    let output = snipcheck(&[
        "check",
        "fixtures/hostile/sentinel.md",
        "--config",
        "fixtures/hostile/snipcheck.yaml",
        "--format",
        "json",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr:\n{}",
        stderr(&output)
    );
    let sandbox = record(&output)["sandbox"].clone();
    assert_eq!(
        sandbox["environment"],
        "scrubbed: only allow-listed variables are passed"
    );
    assert!(
        sandbox["network"].as_str().unwrap().starts_with("off"),
        "{sandbox}"
    );
    assert_eq!(sandbox["memory_limit_mb"], 1024);
    assert_eq!(sandbox["file_size_limit_mb"], 16);
    // Landlock and cgroups depend on the kernel: the record must say either way.
    assert!(!sandbox["filesystem"].as_str().unwrap().is_empty());
    assert!(!sandbox["processes"].as_str().unwrap().is_empty());
}

/// `--isolate library` runs the json snippets and the csv one in children of their own:
/// the same verdicts, the json snippets still in order in one child (the third sees what the
/// first left in the module), and the csv one no longer sees it.
#[test]
fn isolate_library_cuts_a_document_by_library_with_the_same_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("libraries.md");
    std::fs::write(
        &doc,
        "# Set\n\n```python\nimport json\njson.marker = 1\n```\n\n\
         # Other library\n\n```python\nimport csv\nprint(hasattr(__import__('json'), 'marker'))\n```\n\n\
         # Read\n\n```python\nimport json\nassert json.marker == 1\n```\n\n\
         # Missing\n\n```python\nimport no_such_module_here\n```\n",
    )
    .unwrap();
    let run = |isolate: &str| {
        let mut command = command_in(
            &root(),
            &[
                "check",
                doc.to_str().unwrap(),
                "--config",
                "fixtures/check/snipcheck.yaml",
                "--isolate",
                isolate,
            ],
        );
        command.args(["--jobs", "2"]);
        json_record(command, 1)
    };
    let (whole, cut) = (run("document"), run("library"));
    assert_eq!(verdict_table(&cut), verdict_table(&whole));
    assert_eq!(
        categories(&cut),
        ["passed", "passed", "passed", "missing-module"]
    );
    let printed = |record: &serde_json::Value| record["snippets"][1]["stdout"]["text"].clone();
    assert_eq!(printed(&whole), "True\n");
    assert_eq!(printed(&cut), "False\n");
}

#[test]
fn isolate_snippet_gives_the_same_verdicts() {
    let check = ["check", "--config", "fixtures/check/snipcheck.yaml"];
    let mut per_snippet = command_in(&root(), &check);
    per_snippet.args(["--isolate", "snippet"]);
    let per_document = command_in(&root(), &check);
    assert_eq!(
        verdict_table(&json_record(per_snippet, 1)),
        verdict_table(&json_record(per_document, 1))
    );
}

#[test]
fn interrupt_keeps_finished_verdicts_and_writes_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("slow.md");
    std::fs::write(
        &doc,
        "# Fast\n\n```python\nprint('done')\n```\n\n# Slow\n\n```python\nimport time\ntime.sleep(60)\n```\n\n# Never reached\n\n```python\nx = 1\n```\n",
    )
    .unwrap();
    let report = dir.path().join("record.json");
    let child = command_in(
        &root(),
        &[
            "check",
            doc.to_str().unwrap(),
            "--config",
            "fixtures/check/snipcheck.yaml",
            "--timeout",
            "60",
            "--format",
            "json",
            "-o",
            report.to_str().unwrap(),
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    // Long enough for the fast snippet to finish and the slow one to start.
    std::thread::sleep(Duration::from_secs(3));
    // SAFETY: signalling the child process we started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(130),
        "stderr:\n{}",
        stderr(&output)
    );
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let categories = categories(&record);
    assert_eq!(categories[0], "passed");
    assert_eq!(categories[1..], ["skipped", "skipped"]);
    stable_settings().bind(|| {
        insta::assert_json_snapshot!("interrupted_snippet", record["snippets"][1]["error"])
    });
}

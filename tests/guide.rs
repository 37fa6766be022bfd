//! The guide itself, in its real environment (numpy, scikit-learn, torch, TensorFlow, imgaug).
//!
//! Ignored by a plain `cargo test` because the environment is large; `.ci/run` runs it with
//! `--ignored`, and the first run builds the environment under .snipcheck/.

use crate::support::{record, root, stable_settings, stderr};
use std::process::Command;

/// Runs snipcheck from the root with the guide's own cache (.snipcheck/ at the root, shared
/// with the README's command); the guide has failing examples, so it exits with 1.
fn check_guide(args: &[&str]) -> serde_json::Value {
    let output = Command::new(env!("CARGO_BIN_EXE_snipcheck"))
        .args(args)
        .current_dir(root())
        .env_remove("SNIPCHECK_CACHE_DIR")
        .output()
        .expect("snipcheck runs");
    assert_eq!(
        output.status.code(),
        Some(1),
        "stderr:\n{}",
        stderr(&output)
    );
    record(&output)
}

#[test]
#[ignore = "needs the guide's environment; .ci/run runs it"]
fn guide_verdicts() {
    let record = check_guide(&["check", "--format", "json"]);
    let mut settings = stable_settings();
    // Captured output of third-party libraries (TensorFlow's log lines) varies by machine.
    settings.add_redaction(".snippets[].stderr", "[stderr]");
    settings.bind(|| insta::assert_json_snapshot!("guide_record", record));
}

/// The guide as Markdown, HTML and reST (fixtures/formats/guide.*) must get the verdicts
/// of the plain-text original, snippet by snippet. `SNIPCHECK_GUIDE_ENV` names an
/// existing guide environment to use instead of the cached one.
#[test]
#[ignore = "needs the guide's environment; .ci/run runs it"]
fn guide_verdicts_are_the_same_in_every_format() {
    let documents = [
        "snippets/ml-engineer-interview-guide.txt",
        "fixtures/formats/guide.md",
        "fixtures/formats/guide.html",
        "fixtures/formats/guide.rst",
    ];
    let mut args = vec!["check", "--config", "snippets/snipcheck.yaml"];
    args.extend(documents);
    args.extend(["--format", "json"]);
    let env = std::env::var("SNIPCHECK_GUIDE_ENV").ok();
    if let Some(env) = &env {
        args.extend(["--python-env", env.as_str()]);
    }
    let record = check_guide(&args);
    // (id, category, error type, error message) per document, in document order.
    let verdicts = |path: &str| -> Vec<(String, String, String, String)> {
        record["snippets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["path"] == path)
            .map(|s| {
                let field = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
                (
                    field(&s["id"]),
                    field(&s["category"]),
                    field(&s["error"]["type"]),
                    field(&s["error"]["message"]),
                )
            })
            .collect()
    };
    let original = verdicts(documents[0]);
    assert_eq!(original.len(), 18);
    for document in &documents[1..] {
        assert_eq!(verdicts(document), original, "{document}");
    }
}

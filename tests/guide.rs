//! The guide itself, in its real environment (numpy, scikit-learn, torch, TensorFlow, imgaug).
//!
//! Ignored by a plain `cargo test` because the environment is large; `.ci/run` runs it with
//! `--ignored`, and the first run builds the environment under .snipcheck/.

use crate::support::{command_in, json_record, report_settings, root, stable_settings};

#[test]
#[ignore = "needs the guide's environment; .ci/run runs it"]
fn guide_verdicts() {
    let reports = tempfile::tempdir().unwrap();
    let outputs: Vec<String> = ["junit", "github", "markdown", "sarif", "html"]
        .iter()
        .map(|f| format!("{f}={}", reports.path().join(f).display()))
        .collect();
    let outputs = outputs.join(",");
    // The guide's own cache (.snipcheck/ at the root), shared with the README's command.
    let mut command = command_in(&root(), &["check", "--output-format", &outputs]);
    command.env_remove("SNIPCHECK_CACHE_DIR");
    let record = json_record(command, 1);
    let mut settings = stable_settings();
    // Captured output of third-party libraries (TensorFlow's log lines) varies by machine.
    settings.add_redaction(".snippets[].stderr", "[stderr]");
    settings.bind(|| insta::assert_json_snapshot!("guide_record", record));

    let mut settings = report_settings();
    settings.add_filter(
        r#"(?s)<system-err>.*?</system-err>"#,
        "<system-err>[stderr]</system-err>",
    );
    settings.add_filter(
        r#"(?s)<summary>stderr</summary><pre>.*?</pre>"#,
        "<summary>stderr</summary><pre>[stderr]</pre>",
    );
    for format in ["junit", "github", "markdown", "sarif", "html"] {
        let text = std::fs::read_to_string(reports.path().join(format)).unwrap();
        settings.bind(|| insta::assert_snapshot!(format!("guide_{format}"), text));
    }
}

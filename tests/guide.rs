//! The guide itself, in its real environment (numpy, scikit-learn, torch, TensorFlow, imgaug).
//!
//! Ignored by a plain `cargo test` because the environment is large; `.ci/run` runs it with
//! `--ignored`, and the first run builds the environment under .snipcheck/.

use crate::support::{record, root, stable_settings, stderr};
use std::process::Command;

#[test]
#[ignore = "needs the guide's environment; .ci/run runs it"]
fn guide_verdicts() {
    // The guide's own cache (.snipcheck/ at the root), shared with the README's command.
    let output = Command::new(env!("CARGO_BIN_EXE_snipcheck"))
        .args(["check", "--format", "json"])
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
    let record = record(&output);
    let mut settings = stable_settings();
    // Captured output of third-party libraries (TensorFlow's log lines) varies by machine.
    settings.add_redaction(".snippets[].stderr", "[stderr]");
    settings.bind(|| insta::assert_json_snapshot!("guide_record", record));
}

//! The guide itself, in its real environment (numpy, scikit-learn, torch, TensorFlow, imgaug).
//!
//! Ignored by a plain `cargo test` because the environment is large; `.ci/run` runs it with
//! `--ignored`, and the first run builds the environment under .snipcheck/.

use crate::support::{command_in, json_record, root, stable_settings};

#[test]
#[ignore = "needs the guide's environment; .ci/run runs it"]
fn guide_verdicts() {
    // The guide's own cache (.snipcheck/ at the root), shared with the README's command.
    let mut command = command_in(&root(), &["check"]);
    command.env_remove("SNIPCHECK_CACHE_DIR");
    let record = json_record(command, 1);
    let mut settings = stable_settings();
    // Captured output of third-party libraries (TensorFlow's log lines) varies by machine.
    settings.add_redaction(".snippets[].stderr", "[stderr]");
    settings.bind(|| insta::assert_json_snapshot!("guide_record", record));
}

//! Bad input: a clear message naming the file (and line), exit 2, the rest still checked.

use crate::support::{check_json, snipcheck, snipcheck_in, stable_settings, stderr};

#[test]
fn binary_and_invalid_utf8_documents_are_reported_and_the_rest_is_checked() {
    let record = check_json(
        &[
            "check",
            "fixtures/bad/binary.md",
            "fixtures/bad/latin1.txt",
            "fixtures/check/paragraphs.txt",
            "--config",
            "fixtures/check/snipcheck.yaml",
        ],
        2,
    );
    assert_eq!(
        record["summary"]["snippets"], 4,
        "the good document was still checked"
    );
    stable_settings().bind(|| insta::assert_json_snapshot!("bad_documents", record["diagnostics"]));
}

#[test]
fn missing_file_and_empty_folder() {
    let empty = tempfile::tempdir().unwrap();
    let output = snipcheck(&[
        "check",
        "fixtures/no-such-file.md",
        empty.path().to_str().unwrap(),
        "--config",
        "fixtures/check/snipcheck.yaml",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let text =
        String::from_utf8_lossy(&output.stdout).replace(empty.path().to_str().unwrap(), "[empty]");
    insta::assert_snapshot!("missing_inputs", text);
}

#[test]
fn malformed_config_names_file_line_and_valid_keys() {
    let output = snipcheck(&["check", "--config", "fixtures/bad/snipcheck.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    insta::assert_snapshot!("malformed_config", stderr(&output));
}

#[test]
fn unterminated_fence_is_a_warning_and_still_runs() {
    let record = check_json(
        &[
            "check",
            "fixtures/bad/unterminated.md",
            "--config",
            "fixtures/check/snipcheck.yaml",
        ],
        0,
    );
    assert_eq!(record["summary"]["passed"], 1);
    insta::assert_json_snapshot!("unterminated_fence", record["diagnostics"]);
}

#[test]
fn nothing_to_check_without_config_or_paths() {
    let dir = tempfile::tempdir().unwrap();
    let output = snipcheck_in(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(2));
    insta::assert_snapshot!("nothing_to_check", stderr(&output));
}

#[test]
fn unknown_format_is_a_usage_error() {
    let output = snipcheck(&["check", "--format", "xml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("possible values: human, json, yaml"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn python_env_that_is_not_a_venv_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let output = snipcheck(&[
        "check",
        "fixtures/check/paragraphs.txt",
        "--python-env",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("is not a Python virtual environment"),
        "{}",
        stderr(&output)
    );
}

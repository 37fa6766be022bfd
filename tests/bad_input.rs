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

/// A virtualenv under a temporary folder whose `bin/python` is `python` (a shell script, or
/// `None` for a link to nothing) and whose `pyvenv.cfg` names `version`.
fn fake_environment(version: &str, python: Option<&str>) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::fs::write(
        dir.path().join("pyvenv.cfg"),
        format!("version = {version}\n"),
    )
    .unwrap();
    match python {
        Some(script) => {
            std::fs::write(bin.join("python"), format!("#!/bin/sh\n{script}\n")).unwrap();
            std::fs::set_permissions(bin.join("python"), std::fs::Permissions::from_mode(0o755))
                .unwrap();
        }
        None => std::os::unix::fs::symlink("/nonexistent/python3.11", bin.join("python")).unwrap(),
    }
    dir
}

#[test]
fn broken_environments_name_their_path_and_what_was_tried() {
    let garbage = tempfile::tempdir().unwrap();
    std::fs::write(garbage.path().join("libpython3.11.so.1.0"), "not a library").unwrap();
    let answer =
        |libdir: &str| format!("printf 'cpython\\n1\\n{libdir}\\nlibpython3.11.so.1.0\\n'");
    let cases = [
        ("interpreter-missing", fake_environment("3.11.7", None)),
        (
            "interpreter-fails",
            fake_environment("3.11.7", Some("echo 'broken interpreter' >&2; exit 3")),
        ),
        (
            "unsupported-version",
            fake_environment("3.8.18", Some("exit 0")),
        ),
        (
            "no-shared-libpython",
            fake_environment("3.11.7", Some(&answer("/nonexistent/lib"))),
        ),
        (
            "libpython-does-not-load",
            fake_environment("3.11.7", Some(&answer(garbage.path().to_str().unwrap()))),
        ),
    ];
    let mut messages = String::new();
    for (name, env) in &cases {
        let output = snipcheck(&[
            "check",
            "fixtures/check/paragraphs.txt",
            "--config",
            "fixtures/check/snipcheck.yaml",
            "--python-env",
            env.path().to_str().unwrap(),
        ]);
        let text = stderr(&output)
            .replace(env.path().to_str().unwrap(), "[env]")
            .replace(garbage.path().to_str().unwrap(), "[lib]");
        assert_eq!(output.status.code(), Some(2), "{name}: {text}");
        assert!(
            text.contains("[env]"),
            "{name} does not name the environment: {text}"
        );
        let last = text.lines().last().unwrap_or_default();
        messages.push_str(&format!("{name}: {last}\n"));
    }
    insta::assert_snapshot!("broken_environments", messages);
}

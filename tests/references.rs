//! API names in the prose: found, resolved against the environment, suggested, cached.

use std::path::Path;

use crate::support::{record, snipcheck, snipcheck_in, stable_settings, stderr, stdout};

const CONFIG: &str = "fixtures/references/snipcheck.yaml";
const DOC: &str = "fixtures/references/stdlib.md";

#[test]
fn claims_code_spans_and_context_in_markdown() {
    let output = snipcheck(&["check", DOC, "--config", CONFIG, "--format", "json"]);
    // `The json module provides a parse function` is a claim that is false: the check fails.
    assert_eq!(
        output.status.code(),
        Some(1),
        "stderr:\n{}",
        stderr(&output)
    );
    let record = record(&output);
    stable_settings()
        .bind(|| insta::assert_json_snapshot!("stdlib_references", record["references"]));
}

#[test]
fn human_output_points_at_the_line_with_a_suggestion() {
    let output = snipcheck(&["check", DOC, "--config", CONFIG]);
    stable_settings().bind(|| insta::assert_snapshot!("stdlib_human", stdout(&output)));
}

#[test]
fn ignored_claims_and_bare_names_as_errors_follow_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("doc.md");
    std::fs::write(
        &doc,
        "The `json` module provides a `parse` function.\n\nHelpers such as `os.path.exist` help.\n",
    )
    .unwrap();
    let config = dir.path().join("snipcheck.yaml");
    let run = |yaml: &str| {
        std::fs::write(&config, yaml).unwrap();
        snipcheck(&[
            "check",
            doc.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
        ])
    };
    let failing = run("references:\n  ignore: [parse]\n  bare: error\n");
    assert_eq!(failing.status.code(), Some(1), "{}", stderr(&failing));
    let statuses: Vec<(String, String)> = record(&failing)["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["status"].as_str().unwrap().into(),
                r["severity"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("ignored".into(), "info".into()),
            ("unresolved".into(), "error".into())
        ]
    );
    let passing = run("references:\n  ignore: [parse, os.path.exist]\n");
    assert_eq!(passing.status.code(), Some(0), "{}", stderr(&passing));
    let off = run("references:\n  check: false\n");
    assert_eq!(record(&off)["references"], serde_json::json!([]));
}

#[test]
fn the_symbol_index_is_built_once_per_environment() {
    let cache = tempfile::tempdir().unwrap();
    let run = || {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_snipcheck"))
            .args(["check", DOC, "--config", CONFIG, "--format", "json"])
            .current_dir(crate::support::root())
            // The environment comes from the shared cache; only the index is new here.
            .args(["--python-env", &shared_env()])
            .env("SNIPCHECK_CACHE_DIR", cache.path())
            // Without the result cache: it would answer the second run, and the index
            // would never be consulted.
            .env("SNIPCHECK_NO_CACHE", "1")
            .output()
            .unwrap();
        record(&output)
    };
    let first = run();
    let indexes = index_files(&cache.path().join("index"));
    assert!(
        indexes.iter().any(|p| p
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("json-")),
        "{indexes:?}"
    );
    let stamps: Vec<_> = indexes
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().modified().unwrap())
        .collect();
    let second = run();
    assert_eq!(first["references"], second["references"]);
    let again: Vec<_> = indexes
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().modified().unwrap())
        .collect();
    assert_eq!(
        stamps, again,
        "a second run must read the index, not rebuild it"
    );
}

/// The standard-library environment the other tests share, built if needed.
fn shared_env() -> String {
    let output = snipcheck(&[
        "check",
        "fixtures/check/paragraphs.txt",
        "--config",
        CONFIG,
        "--format",
        "json",
    ]);
    record(&output)["python"]["prefix"]
        .as_str()
        .unwrap()
        .to_string()
}

fn index_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for env in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        for file in std::fs::read_dir(env.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            out.push(file.path());
        }
    }
    out.sort();
    out
}

/// Prose nobody here wrote: the READMEs of attrs, requests and rich, taken from the
/// packages installed at test time. Their correct names must resolve, with no false error.
#[test]
#[ignore = "installs attrs, requests and rich from the package registry; .ci/run runs it"]
fn readmes_of_well_known_packages() {
    let config = "fixtures/references/readmes/snipcheck.yaml";
    let installed = snipcheck(&[
        "check",
        "fixtures/references/readmes/installed.md",
        "--config",
        config,
        "--format",
        "json",
    ]);
    assert_eq!(installed.status.code(), Some(0), "{}", stderr(&installed));
    let prefix = record(&installed)["python"]["prefix"]
        .as_str()
        .unwrap()
        .to_string();
    let site = std::fs::read_dir(Path::new(&prefix).join("lib"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("site-packages"))
        .find(|p| p.is_dir())
        .expect("site-packages");
    let docs = tempfile::tempdir().unwrap();
    for package in ["attrs", "requests", "rich"] {
        let info = std::fs::read_dir(&site)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                name.starts_with(&format!("{package}-")) && name.ends_with(".dist-info")
            })
            .unwrap_or_else(|| panic!("{package} is installed"));
        let metadata = std::fs::read_to_string(info.join("METADATA")).unwrap();
        // The long description (the README) follows the headers' blank line.
        let readme = metadata
            .split_once("\n\n")
            .map(|(_, body)| body)
            .unwrap_or("");
        assert!(readme.len() > 1000, "{package} has a README");
        std::fs::write(docs.path().join(format!("{package}.md")), readme).unwrap();
    }
    let output = snipcheck_in(
        &crate::support::root(),
        &[
            "check",
            docs.path().to_str().unwrap(),
            "--config",
            config,
            "--format",
            "json",
        ],
    );
    let record = record(&output);
    let references = record["references"].as_array().unwrap();
    let count = |status: &str| references.iter().filter(|r| r["status"] == status).count();
    let errors: Vec<_> = references
        .iter()
        .filter(|r| r["severity"] == "error")
        .collect();
    let unresolved: Vec<_> = references
        .iter()
        .filter(|r| r["status"] == "unresolved")
        .collect();
    eprintln!(
        "READMEs: {} references, {} resolved, {} unresolved, {} unchecked, {} errors",
        references.len(),
        count("resolved"),
        unresolved.len(),
        count("unchecked"),
        errors.len()
    );
    assert!(errors.is_empty(), "false errors: {errors:#?}");
    assert!(unresolved.is_empty(), "false warnings: {unresolved:#?}");
    assert!(count("resolved") >= 15, "{references:#?}");
    // Names written with their module resolve to that module's own home.
    for name in [
        "attrs.define",
        "attrs.field",
        "rich.print",
        "rich.table.Table",
    ] {
        assert!(
            references.iter().any(|r| r["resolved"] == name),
            "{name} not resolved: {references:#?}"
        );
    }
}

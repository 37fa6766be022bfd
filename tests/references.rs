//! API names in the prose: found, resolved against the environment, suggested, cached.

use std::path::Path;

use crate::support::{
    categories, field_pairs, record, snipcheck, snipcheck_in, stable_settings, stderr, stdout,
};

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
    let statuses = field_pairs(&record(&failing)["references"], "status", "severity");
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

/// The site-packages folder of the environment `config` builds (from the registry, on first
/// use), after checking that `installed` (a snippet importing its packages) passes there.
fn site_packages(installed: &str, config: &str) -> std::path::PathBuf {
    let output = snipcheck(&["check", installed, "--config", config, "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let prefix = record(&output)["python"]["prefix"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::read_dir(Path::new(&prefix).join("lib"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("site-packages"))
        .find(|p| p.is_dir())
        .expect("site-packages")
}

/// Prose nobody here wrote: the READMEs of attrs, requests and rich, taken from the
/// packages installed at test time. Their correct names must resolve, with no false error.
#[test]
#[ignore = "installs attrs, requests and rich from the package registry; .ci/run runs it"]
fn readmes_of_well_known_packages() {
    let config = "fixtures/references/readmes/snipcheck.yaml";
    let site = site_packages("fixtures/references/readmes/installed.md", config);
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

/// The packages whose READMEs the mutation test misspells (pinned in the fixture's
/// requirements), as their dist-info folders start.
const MUTATED: &[&str] = &[
    "attrs",
    "click",
    "loguru",
    "more_itertools",
    "orjson",
    "requests",
    "returns",
    "rich",
];

/// Warnings the unmutated READMEs already raise, by file and text: loguru's README names
/// the `better_exceptions` package, which is not installed, in a sentence about loguru.
const KNOWN_WARNINGS: &[(&str, &str)] = &[("loguru.rst", "better_exceptions")];

/// The typo a writer makes: two adjacent letters of the name's last part swapped, nearest
/// the middle first; `None` when no swap changes it.
fn swap_letters(leaf: &str) -> Option<String> {
    let chars: Vec<char> = leaf.chars().collect();
    let middle = (chars.len() as f64 - 2.0) / 2.0;
    let mut positions: Vec<usize> = (0..chars.len().saturating_sub(1)).collect();
    positions.sort_by(|a, b| {
        (*a as f64 - middle)
            .abs()
            .total_cmp(&(*b as f64 - middle).abs())
    });
    positions.into_iter().find_map(|i| {
        let (a, b) = (chars[i], chars[i + 1]);
        (a != b && a.is_alphabetic() && b.is_alphabetic()).then(|| {
            let mut swapped = chars.clone();
            swapped.swap(i, i + 1);
            swapped.into_iter().collect()
        })
    })
}

#[test]
fn swaps_adjacent_letters_near_the_middle() {
    assert_eq!(swap_letters("Table").as_deref(), Some("Tbale"));
    assert_eq!(swap_letters("print").as_deref(), Some("pirnt"));
    assert_eq!(swap_letters("aa"), None);
}

/// One misspelt name: where it is, what it was, and the home it resolved to.
struct Mutation {
    file: String,
    line: u64,
    column: u64,
    original: String,
    mutated: String,
    resolved: String,
}

/// Writes each README with every resolved name of at least four letters misspelt.
fn mutate(original: &Path, mutated: &Path, references: &[serde_json::Value]) -> Vec<Mutation> {
    let resolved: Vec<&serde_json::Value> = references
        .iter()
        .filter(|r| r["status"] == "resolved")
        .collect();
    let leaves: std::collections::HashSet<&str> = resolved
        .iter()
        .filter_map(|r| r["name"].as_str()?.rsplit('.').next())
        .collect();
    let mut out = Vec::new();
    std::fs::create_dir_all(mutated).unwrap();
    for entry in std::fs::read_dir(original).unwrap().flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(entry.path()).unwrap();
        let mut lines: Vec<String> = text.split('\n').map(String::from).collect();
        for r in resolved
            .iter()
            .filter(|r| r["path"].as_str().unwrap().ends_with(&format!("/{file}")))
        {
            let name = r["name"].as_str().unwrap();
            let leaf = name.rsplit('.').next().unwrap();
            let Some(typo) =
                swap_letters(leaf).filter(|t| leaf.len() >= 4 && !leaves.contains(t.as_str()))
            else {
                continue;
            };
            let (line, column) = (r["line"].as_u64().unwrap(), r["column"].as_u64().unwrap());
            let written = r["text"].as_str().unwrap();
            let chars: Vec<char> = lines[line as usize - 1].chars().collect();
            let start = column as usize - 1;
            let end = start + written.chars().count();
            let at: String = chars[start..end].iter().collect();
            assert_eq!(at, written, "{file}:{line}:{column}");
            let cut = written.rfind(leaf).unwrap();
            let misspelt = format!("{}{typo}{}", &written[..cut], &written[cut + leaf.len()..]);
            let before: String = chars[..start].iter().collect();
            let after: String = chars[end..].iter().collect();
            lines[line as usize - 1] = format!("{before}{misspelt}{after}");
            out.push(Mutation {
                file: file.clone(),
                line,
                column,
                original: written.to_string(),
                mutated: misspelt,
                resolved: r["resolved"].as_str().unwrap().to_string(),
            });
        }
        std::fs::write(mutated.join(&file), lines.join("\n")).unwrap();
    }
    out
}

/// The references of a check of `folder` with the mutation test's config.
fn check_references(folder: &Path) -> Vec<serde_json::Value> {
    let output = snipcheck(&[
        "check",
        folder.to_str().unwrap(),
        "--config",
        "fixtures/references/mutations/snipcheck.yaml",
        "--format",
        "json",
    ]);
    record(&output)["references"].as_array().unwrap().clone()
}

/// Misspell the names snipcheck resolved in READMEs it did not write (the long descriptions
/// of pinned wheels, installed from the registry at test time), as a writer would, by
/// swapping two adjacent letters: nearly all must be reported, nearly all with the original
/// as the first suggestion, and the unmutated READMEs must raise no error or new warning.
#[test]
#[ignore = "installs eight packages from the package registry; .ci/run runs it"]
fn misspelt_names_in_readmes_are_caught_with_the_original_suggested() {
    let site = site_packages(
        "fixtures/references/mutations/installed.md",
        "fixtures/references/mutations/snipcheck.yaml",
    );
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mutations");
    let _ = std::fs::remove_dir_all(&work);
    let (original, mutated) = (work.join("original"), work.join("mutated"));
    std::fs::create_dir_all(&original).unwrap();
    for package in MUTATED {
        let info = std::fs::read_dir(&site)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                let name = p.file_name().unwrap().to_string_lossy().to_lowercase();
                name.starts_with(&format!("{package}-")) && name.ends_with(".dist-info")
            })
            .unwrap_or_else(|| panic!("{package} is installed"));
        let metadata = std::fs::read_to_string(info.join("METADATA")).unwrap();
        let (headers, readme) = metadata.split_once("\n\n").unwrap_or((&metadata, ""));
        let extension = if headers.contains("Description-Content-Type: text/markdown") {
            "md"
        } else {
            "rst"
        };
        assert!(readme.len() > 1000, "{package} has a README");
        std::fs::write(original.join(format!("{package}.{extension}")), readme).unwrap();
    }

    let references = check_references(&original);
    let file_of = |r: &serde_json::Value| {
        let path = r["path"].as_str().unwrap();
        path.rsplit('/').next().unwrap().to_string()
    };
    let reported: Vec<(String, String, String)> = references
        .iter()
        .filter(|r| r["severity"] != "info")
        .map(|r| {
            (
                file_of(r),
                r["text"].as_str().unwrap().to_string(),
                r["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let known: Vec<(String, String, String)> = KNOWN_WARNINGS
        .iter()
        .map(|(f, t)| (f.to_string(), t.to_string(), "warning".to_string()))
        .collect();
    assert_eq!(
        reported, known,
        "the unmutated READMEs: errors or new warnings"
    );

    let mutations = mutate(&original, &mutated, &references);
    assert!(mutations.len() >= 150, "{} mutations", mutations.len());
    let after = check_references(&mutated);
    let (mut caught, mut first) = (0, 0);
    for m in &mutations {
        let found = after
            .iter()
            .find(|r| file_of(r) == m.file && r["line"] == m.line && r["column"] == m.column);
        let is_caught =
            found.is_some_and(|r| r["status"] == "unresolved" && r["severity"] != "info");
        let is_first = is_caught && found.unwrap()["suggestions"][0] == m.resolved.as_str();
        caught += usize::from(is_caught);
        first += usize::from(is_first);
        if !is_first {
            eprintln!(
                "{}:{}: `{}` -> `{}` (was {}): {}",
                m.file,
                m.line,
                m.original,
                m.mutated,
                m.resolved,
                found.map_or("not reported".to_string(), |r| format!(
                    "{} {}, suggestions {}",
                    r["status"], r["severity"], r["suggestions"]
                ))
            );
        }
    }
    let total = mutations.len();
    let percent = |n: usize| 100.0 * n as f64 / total as f64;
    eprintln!(
        "mutations: {total} misspelt names in {} READMEs; caught {caught} ({:.1}%), original first {first} ({:.1}%); unmutated: {} references, {} resolved, no error, {} known warning(s)",
        MUTATED.len(),
        percent(caught),
        percent(first),
        references.len(),
        references.iter().filter(|r| r["status"] == "resolved").count(),
        known.len(),
    );
    assert!(percent(caught) >= 95.0, "caught {caught} of {total}");
    assert!(percent(first) >= 95.0, "original first {first} of {total}");
}

/// Names the examples take from their imports are checked statically, so those after an
/// early failure are reported too, each once, with the snippet's id, line and suggestion.
#[test]
fn names_in_code_are_checked_even_after_an_early_failure() {
    let output = snipcheck(&[
        "check",
        "fixtures/references/code.md",
        "--config",
        CONFIG,
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let record = record(&output);
    assert_eq!(
        categories(&record),
        ["undefined-name", "missing-name", "passed"]
    );
    stable_settings()
        .bind(|| insta::assert_json_snapshot!("code_references", record["references"]));
}

/// With a job for every worker, the workers answer the names between their jobs, each
/// library on a worker that imported it if one did; with fewer, a worker of their own
/// answers them beside the documents. Same answers.
#[test]
fn names_resolve_alike_between_documents_and_on_a_worker_of_their_own() {
    let references = |jobs: &str, isolate: &str| {
        let output = snipcheck(&[
            "check",
            "fixtures/references/code.md",
            DOC,
            "fixtures/references/readmes",
            "--config",
            CONFIG,
            "--no-cache",
            "--jobs",
            jobs,
            "--isolate",
            isolate,
            "--format",
            "json",
        ]);
        record(&output)["references"].clone()
    };
    let between_documents = references("1", "document");
    let beside = references("16", "document");
    assert!(
        between_documents.as_array().unwrap().len() > 5,
        "{between_documents}"
    );
    assert_eq!(between_documents, beside);
    let between_parts = references("2", "library");
    assert_eq!(between_parts, beside);
}

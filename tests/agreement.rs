//! Agreement with the reference tools on material snipcheck's authors did not write: the
//! doctests of standard-library modules checked in place, compared with `doctest.testmod`
//! run by the very interpreter snipcheck embeds; and, downloaded from the package registry
//! at test time (so ignored by a plain `cargo test`), a reST README compared with
//! `python -m doctest` and notebooks compared with nbclient, Jupyter's own executor.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{check_json, record, snipcheck, stderr};

/// Examples found, passed and failed, and docstrings (doctest's "items") with examples.
#[derive(Debug, PartialEq, Eq)]
struct Counts {
    items: u64,
    tried: u64,
    failed: u64,
}

/// snipcheck's record of one Python file, checked with the standard-library config.
fn check_python_file(file: &Path, exit_code: i32) -> serde_json::Value {
    check_json(
        &[
            "check",
            file.to_str().unwrap(),
            "--config",
            "fixtures/formats/snipcheck.yaml",
        ],
        exit_code,
    )
}

/// The docstrings that ran and their examples, counted as doctest counts them. Every other
/// docstring must be skipped with an info diagnostic at its line saying why (the record's
/// only diagnostics).
fn ran_counts(record: &serde_json::Value) -> Counts {
    let snippets = record["snippets"].as_array().unwrap();
    let (ran, skipped): (Vec<_>, Vec<_>) = snippets.iter().partition(|s| s["status"] != "skipped");
    let diagnostics = record["diagnostics"].as_array().unwrap();
    let skip_lines: Vec<&serde_json::Value> = skipped.iter().map(|s| &s["line"]).collect();
    let info_lines: Vec<&serde_json::Value> = diagnostics
        .iter()
        .inspect(|d| assert_eq!(d["severity"], "info", "{d}"))
        .map(|d| &d["line"])
        .collect();
    assert_eq!(skip_lines, info_lines, "{diagnostics:#?}");
    let sum = |key: &str| {
        ran.iter()
            .map(|s| s["examples"][key].as_u64().expect("a doctest snippet"))
            .sum()
    };
    Counts {
        items: ran.len() as u64,
        tried: sum("tried"),
        failed: sum("failed"),
    }
}

/// The interpreter of the environment snipcheck ran in.
fn record_python(record: &serde_json::Value) -> PathBuf {
    PathBuf::from(record["python"]["prefix"].as_str().unwrap()).join("bin/python")
}

/// Imports a module by name (as `python -m doctest FILE` does) and runs `doctest.testmod`:
/// docstrings with examples, examples tried, examples failed, on the last line.
const TESTMOD_REFERENCE: &str = r#"
import doctest, importlib, json, sys
module = importlib.import_module(sys.argv[1])
items = [test for test in doctest.DocTestFinder().find(module) if test.examples]
result = doctest.testmod(module, report=False)
print(json.dumps([len(items), result.attempted, result.failed]))
"#;

/// What `doctest.testmod` reports for `module`, imported with `dir` first on the path.
fn testmod_counts(python: &Path, module: &str, dir: &Path) -> Counts {
    let output = Command::new(python)
        .args(["-B", "-c", TESTMOD_REFERENCE, module])
        .current_dir(dir)
        .output()
        .expect("python runs");
    let text = String::from_utf8_lossy(&output.stdout);
    let last = text.lines().last().unwrap_or_default();
    let [items, tried, failed]: [u64; 3] = serde_json::from_str(last)
        .unwrap_or_else(|err| panic!("{module}: {err}: {text}\n{}", stderr(&output)));
    Counts {
        items,
        tried,
        failed,
    }
}

/// What `python -m doctest -v FILE` reports, read from its summary.
fn doctest_counts(python: &Path, file: &Path, dir: &Path) -> Counts {
    let output = Command::new(python)
        .args(["-m", "doctest", "-v"])
        .arg(file)
        .current_dir(dir)
        .output()
        .expect("python runs");
    let text = String::from_utf8_lossy(&output.stdout);
    let number_before = |suffix: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_suffix(suffix))
            .map_or(0, |n| n.trim().parse().expect("a count"))
    };
    // "13 tests in 54 items." (per-item lines read "10 tests in fractions.Fraction...").
    let tried = text
        .lines()
        .filter(|l| l.ends_with(" items."))
        .find_map(|l| l.split_once(" tests in "))
        .map(|(n, _)| n.trim().parse().unwrap())
        .expect("doctest's summary line");
    let failed = text
        .lines()
        .find_map(|l| l.strip_suffix(" failed."))
        .and_then(|l| l.rsplit(' ').next())
        .map_or(0, |n| n.parse().unwrap());
    Counts {
        items: number_before(" items passed all tests:") + number_before(" items had failures:"),
        tried,
        failed,
    }
}

/// The interpreter's standard library folder, where the reference modules live.
fn stdlib(python: &Path) -> PathBuf {
    let output = Command::new(python)
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .expect("python runs");
    PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
}

#[test]
fn standard_library_doctests_agree_with_doctest_testmod() {
    // The environment's interpreter comes from a first run (any file will do).
    let python = record_python(&check_python_file(
        Path::new("fixtures/formats/shapes.py"),
        1,
    ));
    let lib = stdlib(&python);
    let outside = tempfile::tempdir().unwrap();
    // textwrap's `shorten` examples fail under doctest itself (they use a name the module
    // does not define): failures must agree too. hashlib assigns its docstring to
    // `__doc__`; doctest and pickletools keep examples in `__test__` (strings, and
    // pickletools' named ones); datetime's classes give way to `_datetime`'s at import,
    // so doctest runs none of their source docstrings; enum and typing are imported
    // before any snippet runs, and must still be checked as that one module.
    let modules = [
        "fractions",
        "statistics",
        "textwrap",
        "difflib",
        "hashlib",
        "doctest",
        "pickletools",
        "datetime",
        "enum",
        "typing",
    ];
    for module in modules {
        // The interpreter's own file, in place: no copy.
        let file = lib.join(format!("{module}.py"));
        let reference = testmod_counts(&python, module, outside.path());
        let record = check_python_file(&file, i32::from(reference.failed > 0));
        let ours = ran_counts(&record);
        eprintln!("{module}: {ours:?}");
        assert_eq!(ours, reference, "{module}");
        if module == "datetime" {
            // Its two source docstrings with examples belong to methods `_datetime`
            // replaces: skipped, saying so.
            let skipped: Vec<&str> = record["snippets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].as_str().unwrap())
                .collect();
            assert_eq!(skipped, ["date-repr", "timezone-repr"]);
            let message = record["diagnostics"][0]["message"].as_str().unwrap();
            assert!(
                message.contains("`datetime.date.__repr__` is <slot wrapper"),
                "{message}"
            );
        } else {
            assert!(
                reference.tried > 0,
                "{module}: no examples found by doctest"
            );
        }
    }
}

#[test]
fn finder_fixture_agrees_with_doctest_testmod() {
    let record = check_python_file(Path::new("fixtures/formats/finder.py"), 1);
    let reference = testmod_counts(
        &record_python(&record),
        "finder",
        Path::new("fixtures/formats"),
    );
    assert_eq!(ran_counts(&record), reference);
}

#[test]
fn a_copy_of_an_imported_module_is_refused() {
    let python = record_python(&check_python_file(
        Path::new("fixtures/formats/shapes.py"),
        1,
    ));
    let original = stdlib(&python).join("typing.py");
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("typing.py");
    std::fs::copy(&original, &copy).unwrap();
    // The runner has imported `typing` already: a second one beside it would make two of
    // every class (`TypedDict` checks would be false), so the file is not checked.
    let record = check_python_file(&copy, 2);
    let diagnostics = record["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    assert_eq!(diagnostics[0]["severity"], "error");
    let message = diagnostics[0]["message"].as_str().unwrap();
    let expected = format!(
        "cannot check {} in place: its module name `typing` is already imported from {}",
        copy.display(),
        original.display()
    );
    assert!(message.starts_with(&expected), "{message}");
    let snippets = record["snippets"].as_array().unwrap();
    assert!(!snippets.is_empty());
    assert!(snippets.iter().all(|s| s["status"] == "skipped"));
}

/// Runs `program args` in `dir`, failing the test with its output when it fails.
fn run(program: &Path, args: &[&str], dir: &Path) -> String {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|err| panic!("{} runs: {err}", program.display()));
    assert!(
        output.status.success(),
        "{} {args:?}:\n{}\n{}",
        program.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Downloads a source distribution from the registry and unpacks it in `dir`.
fn sdist(dir: &Path, requirement: &str) -> PathBuf {
    run(
        Path::new("python3"),
        &[
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "-q",
            "-d",
            ".",
            requirement,
        ],
        dir,
    );
    let (name, version) = requirement.split_once("==").unwrap();
    let archive = format!("{name}-{version}.tar.gz");
    run(Path::new("tar"), &["xzf", &archive], dir);
    dir.join(format!("{name}-{version}"))
}

#[test]
#[ignore = "downloads from the package registry"]
fn rst_readme_from_the_registry_agrees_with_python_m_doctest() {
    let tmp = tempfile::tempdir().unwrap();
    // parse's README is a reST document of 62 examples in doctest blocks and pycon blocks.
    let package = sdist(tmp.path(), "parse==1.22.4");
    std::fs::write(tmp.path().join("requirements.txt"), "parse==1.22.4\n").unwrap();
    let config = tmp.path().join("snipcheck.yaml");
    std::fs::write(
        &config,
        "python:\n  requirements: requirements.txt\ntimeout: 60\n",
    )
    .unwrap();
    let readme = package.join("README.rst");
    let output = snipcheck(&[
        "check",
        readme.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        stderr(&output)
    );
    let record = record(&output);
    let snippets = record["snippets"].as_array().unwrap();
    let sum = |key: &str| -> u64 {
        snippets
            .iter()
            .map(|s| s["examples"][key].as_u64().unwrap_or(0))
            .sum()
    };
    let python = PathBuf::from(record["python"]["prefix"].as_str().unwrap()).join("bin/python");
    // doctest runs the whole file as one session, as snipcheck runs a document's sessions.
    let reference = doctest_counts(&python, Path::new("README.rst"), &package);
    eprintln!(
        "parse README.rst: snipcheck tried {} failed {}; doctest {reference:?}",
        sum("tried"),
        sum("failed")
    );
    assert!(reference.tried >= 60);
    assert_eq!(
        (sum("tried"), sum("failed")),
        (reference.tried, reference.failed)
    );
}

/// nbclient, told to go on after errors: code cells with source, and those that raised.
const NBCLIENT_REFERENCE: &str = r#"
import json, sys
import nbformat
from nbclient import NotebookClient
counts = {}
for path in sys.argv[1:]:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, allow_errors=True, timeout=60, kernel_name="python3").execute()
    cells = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    failed = [c for c in cells if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    counts[path] = [len(cells), len(failed)]
print(json.dumps(counts))
"#;

#[test]
#[ignore = "downloads from the package registry"]
fn notebooks_from_the_registry_agree_with_nbclient() {
    let tmp = tempfile::tempdir().unwrap();
    let package = sdist(tmp.path(), "nbclient==0.11.0");
    let files = package.join("tests/files");
    // One environment for both sides: nbclient and a kernel, on the embedded Python's version.
    let venv = tmp.path().join("venv");
    run(
        Path::new("python3"),
        &["-m", "venv", venv.to_str().unwrap()],
        tmp.path(),
    );
    let python = venv.join("bin/python");
    run(
        &python,
        &[
            "-m",
            "pip",
            "install",
            "-q",
            "nbclient==0.11.0",
            "ipykernel",
        ],
        tmp.path(),
    );
    let prefix = venv.to_str().unwrap();
    run(
        &python,
        &[
            "-m",
            "ipykernel",
            "install",
            "--prefix",
            prefix,
            "--name",
            "python3",
        ],
        tmp.path(),
    );
    // nbclient's own test notebooks whose cells are plain Python (the display and widget
    // notebooks need a kernel's display machinery, which plain CPython does not have).
    let notebooks = [
        "Factorials.ipynb",
        "HelloWorld.ipynb",
        "Error.ipynb",
        "Empty Cell.ipynb",
        "Output.ipynb",
        "Unicode.ipynb",
        "Skip Exceptions.ipynb",
        "Parallel Execute A.ipynb",
    ];
    let mut args = vec!["-c", NBCLIENT_REFERENCE];
    args.extend(notebooks);
    let reference: serde_json::Value = serde_json::from_str(&run(&python, &args, &files)).unwrap();

    let mut args = vec!["check"];
    args.extend(notebooks);
    args.extend(["--python-env", prefix, "--format", "json"]);
    let output = crate::support::snipcheck_in(&files, &args);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        stderr(&output)
    );
    let record = record(&output);
    let (mut cells, mut failed) = (0, 0);
    for notebook in notebooks {
        let ours: Vec<&serde_json::Value> = record["snippets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["path"] == notebook)
            .collect();
        let ours = serde_json::json!([
            ours.len(),
            ours.iter().filter(|s| s["status"] == "failed").count()
        ]);
        assert_eq!(ours, reference[notebook], "{notebook}");
        cells += ours[0].as_u64().unwrap();
        failed += ours[1].as_u64().unwrap();
    }
    eprintln!(
        "{} notebooks: {cells} code cells, {failed} failed, on both sides",
        notebooks.len()
    );
}

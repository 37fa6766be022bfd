//! Agreement with the reference tools on material snipcheck's authors did not write: the
//! doctests of standard-library modules, compared with `python -m doctest` run by the very
//! interpreter snipcheck embeds.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{record, snipcheck, stderr};

/// Examples found, passed and failed, and docstrings (doctest's "items") with examples.
#[derive(Debug, PartialEq, Eq)]
struct Counts {
    items: u64,
    tried: u64,
    failed: u64,
}

/// snipcheck's counts for one Python file, and the interpreter it ran under.
fn snipcheck_counts(file: &Path) -> (Counts, PathBuf) {
    let output = snipcheck(&[
        "check",
        file.to_str().unwrap(),
        "--config",
        "fixtures/formats/snipcheck.yaml",
        "--format",
        "json",
    ]);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "stderr:\n{}",
        stderr(&output)
    );
    let record = record(&output);
    assert!(record["diagnostics"].as_array().unwrap().is_empty());
    let snippets = record["snippets"].as_array().unwrap();
    let sum = |key: &str| {
        snippets
            .iter()
            .map(|s| s["examples"][key].as_u64().expect("a doctest snippet"))
            .sum()
    };
    let counts = Counts {
        items: snippets.len() as u64,
        tried: sum("tried"),
        failed: sum("failed"),
    };
    let prefix = PathBuf::from(record["python"]["prefix"].as_str().unwrap());
    (counts, prefix.join("bin").join("python"))
}

/// What `python -m doctest -v FILE` reports, read from its summary.
fn doctest_counts(python: &Path, file: &Path) -> Counts {
    let output = Command::new(python)
        .args(["-m", "doctest", "-v"])
        .arg(file)
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
fn standard_library_doctests_agree_with_python_m_doctest() {
    // The environment's interpreter comes from a first run (any file will do).
    let (_, python) = snipcheck_counts(Path::new("fixtures/formats/shapes.py"));
    let lib = stdlib(&python);
    // textwrap's `shorten` examples fail under doctest itself (they use a name the module
    // does not define): failures must agree too.
    for module in ["fractions", "statistics", "textwrap", "difflib"] {
        let file = lib.join(format!("{module}.py"));
        let (ours, _) = snipcheck_counts(&file);
        let reference = doctest_counts(&python, &file);
        assert!(
            reference.tried > 0,
            "{module}: no examples found by doctest"
        );
        assert_eq!(ours, reference, "{module}");
    }
}

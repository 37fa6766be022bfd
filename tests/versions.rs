//! One snipcheck for every CPython 3.9-3.13: the same fixture checked under each version
//! gives that version's verdicts, and the record says which version ran.

use crate::support::{record, snipcheck};

const VERSIONS: [(u32, u32); 5] = [(3, 9), (3, 10), (3, 11), (3, 12), (3, 13)];

/// The version a fixture section needs, from its heading: "tomllib (3.11)".
fn needed(section: &str) -> Option<(u32, u32)> {
    let inside = section.rsplit_once('(')?.1.strip_suffix(')')?;
    let (major, minor) = inside.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

#[test]
fn each_python_version_gives_its_own_verdicts() {
    let mut checked = 0;
    for version in VERSIONS {
        let name = format!("{}.{}", version.0, version.1);
        let output = snipcheck(&[
            "check",
            "--config",
            "fixtures/versions/snipcheck.yaml",
            "--python",
            &name,
            "--format",
            "json",
        ]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if output.status.code() == Some(2) && stderr.contains(&format!("no Python {name} found")) {
            // Every version is installed where CI runs; elsewhere a missing one is skipped.
            assert!(
                std::env::var_os("CI").is_none(),
                "CI needs Python {name}: {stderr}"
            );
            eprintln!("skipped Python {name}: {stderr}");
            continue;
        }
        let record = record(&output);
        let ran = record["python"]["version"].as_str().unwrap_or_default();
        assert!(
            ran.starts_with(&format!("{name}.")),
            "{name}: ran {ran:?}; {stderr}"
        );
        let mut failures = 0;
        for snippet in record["snippets"].as_array().unwrap() {
            let section = snippet["section"].as_str().unwrap();
            let passes = needed(section).is_none_or(|needs| needs <= version);
            failures += usize::from(!passes);
            assert_eq!(
                snippet["status"].as_str(),
                Some(if passes { "passed" } else { "failed" }),
                "Python {name}, {section}: {}",
                snippet["error"]
            );
        }
        assert_eq!(
            record["snippets"][0]["stdout"]["text"].as_str(),
            Some(format!("{name}\n").as_str())
        );
        assert_eq!(output.status.code(), Some(i32::from(failures > 0)));
        checked += 1;
    }
    assert!(checked > 0, "no CPython 3.9-3.13 found here");
}

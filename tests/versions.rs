//! One snipcheck for every CPython 3.9-3.13: the same fixture checked under each version
//! gives that version's verdicts, and the record says which version ran.

use crate::support::{assert_version_verdicts, record, snipcheck};

const VERSIONS: [(u32, u32); 5] = [(3, 9), (3, 10), (3, 11), (3, 12), (3, 13)];

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
        let failures = assert_version_verdicts(&record, version);
        assert_eq!(output.status.code(), Some(i32::from(failures > 0)));
        checked += 1;
    }
    assert!(checked > 0, "no CPython 3.9-3.13 found here");
}

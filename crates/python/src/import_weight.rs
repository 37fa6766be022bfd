//! A guess at how long a library takes to import, before anything has imported it: the
//! number of files its package holds in the environment's site-packages.
//!
//! Under `--isolate library` a document's parts wait in a queue for fewer workers than
//! there are parts; the heaviest imports must start first or the slowest could start last
//! (the guide: TensorFlow 18 000 files, 5.7 s to import; PyTorch 15 700, 2.3 s; scikit-learn
//! 1 900, 1.5 s; a missing library 0). It ignores what a package imports of others, so it
//! orders, it does not predict.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::venv::PythonEnv;

/// Stops counting a package past this many files: it is heavy enough to go first.
const COUNT_AT_MOST: u64 = 100_000;

/// The weight of each library in `libraries` (top-level import names) in `env`: 0 for a
/// library not found there (the standard library, a missing one). Counted once per
/// process and environment: the workers an editor keeps ask again on every check.
pub(crate) fn weigh(env: &PythonEnv, libraries: &[&str]) -> BTreeMap<String, u64> {
    static KNOWN: Mutex<BTreeMap<(PathBuf, String), u64>> = Mutex::new(BTreeMap::new());
    let site_packages = site_packages(&env.root);
    let mut known = KNOWN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    libraries
        .iter()
        .map(|&library| {
            let key = (env.root.clone(), library.to_string());
            let weight = *known
                .entry(key)
                .or_insert_with(|| site_packages.iter().map(|sp| files_of(sp, library)).sum());
            (library.to_string(), weight)
        })
        .collect()
}

/// `lib/python3.X/site-packages` of a venv (one, normally).
fn site_packages(root: &Path) -> Vec<PathBuf> {
    let Ok(lib) = std::fs::read_dir(root.join("lib")) else {
        return Vec::new();
    };
    lib.flatten()
        .map(|entry| entry.path().join("site-packages"))
        .filter(|path| path.is_dir())
        .collect()
}

/// Files of the package `library` (a folder), 1 for a lone module or extension, else 0.
fn files_of(site_packages: &Path, library: &str) -> u64 {
    let folder = site_packages.join(library);
    if folder.is_dir() {
        let mut count = 0;
        let mut folders = vec![folder];
        while let Some(folder) = folders.pop() {
            let Ok(entries) = std::fs::read_dir(&folder) else {
                continue;
            };
            for entry in entries.flatten() {
                // From the directory entry itself: no stat per file.
                match entry.file_type() {
                    Ok(kind) if kind.is_dir() => folders.push(entry.path()),
                    Ok(_) => count += 1,
                    Err(_) => {}
                }
                if count >= COUNT_AT_MOST {
                    return count;
                }
            }
        }
        return count;
    }
    let lone = std::fs::read_dir(site_packages)
        .into_iter()
        .flatten()
        .flatten();
    let prefix = format!("{library}.");
    lone.filter(|entry| {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        name.starts_with(&prefix) && (name.ends_with(".py") || name.ends_with(".so"))
    })
    .take(1)
    .count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_package_weighs_its_files_a_module_one_and_a_missing_library_nothing() {
        let root = tempfile::tempdir().unwrap();
        let sp = root.path().join("lib/python3.11/site-packages");
        for file in [
            "heavy/__init__.py",
            "heavy/a/b.py",
            "heavy/a/c.so",
            "heavy/d.py",
        ] {
            let path = sp.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        std::fs::write(sp.join("lone.py"), "").unwrap();
        std::fs::write(sp.join("fast.cpython-311-x86_64-linux-gnu.so"), "").unwrap();
        std::fs::create_dir_all(sp.join("heavy-1.0.dist-info")).unwrap();
        let env = PythonEnv {
            root: root.path().to_path_buf(),
        };
        let weights = weigh(&env, &["heavy", "lone", "fast", "json"]);
        assert_eq!(weights["heavy"], 4);
        assert_eq!(weights["lone"], 1);
        assert_eq!(weights["fast"], 1);
        assert_eq!(weights["json"], 0);
    }
}

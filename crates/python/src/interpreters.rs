//! The CPython interpreters on this machine, found by version: for building a managed
//! virtualenv, and for saying which versions exist when the one asked for does not.
//!
//! Nothing here embeds Python; versions are read from the interpreters' names, or asked of
//! the interpreter itself when its name does not say (`python3`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// The CPython versions the worker embeds (pyo3's stable ABI from 3.9; tested to 3.13).
pub const SUPPORTED: std::ops::RangeInclusive<u32> = 9..=13;

/// A `3.minor` CPython version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
}

impl Version {
    /// Reads `3.12`, `3.12.1` or `3.12.1+` (only major and minor count).
    pub fn parse(text: &str) -> Option<Version> {
        let mut parts = text.trim().split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts
            .next()?
            .trim_end_matches(|c: char| !c.is_ascii_digit())
            .parse()
            .ok()?;
        Some(Version { major, minor })
    }

    pub fn is_supported(self) -> bool {
        self.major == 3 && SUPPORTED.contains(&self.minor)
    }

    /// The error for a version the worker cannot embed, naming what uses it.
    pub fn check_supported(self, what: &dyn fmt::Display) -> Result<()> {
        if !self.is_supported() {
            bail!(
                "{what} uses Python {self}, but snipcheck runs snippets under CPython 3.{}-3.{} only",
                SUPPORTED.start(),
                SUPPORTED.end()
            );
        }
        Ok(())
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// An interpreter a virtualenv can be made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreter {
    pub executable: PathBuf,
    /// `None` for `python3` on PATH: known once a venv is made from it (its `pyvenv.cfg`
    /// says), so that a run whose venv exists starts no Python at all.
    pub version: Option<Version>,
}

/// The interpreter for `version` (`3.12`), or the default one: `python3` on PATH (else the
/// newest version found).
/// A version that is not here is an error listing the versions that are.
pub fn find(version: Option<Version>) -> Result<Interpreter> {
    if let Some(version) = version.filter(|v| !v.is_supported()) {
        bail!(
            "Python {version} was asked for, but snipcheck runs snippets under CPython 3.{}-3.{} only",
            SUPPORTED.start(),
            SUPPORTED.end()
        );
    }
    let found = available();
    match version {
        Some(version) => found.get(&version).cloned().with_context(|| {
            format!(
                "no Python {version} found (looked for python{version} on PATH, under pyenv and \
                 uv's managed Pythons); {}",
                describe_available(&found)
            )
        }),
        None => default_interpreter()
            .or_else(|| found.values().next_back().cloned())
            .with_context(|| {
                "no python3 on PATH, and no python3.X on PATH, under pyenv or uv either"
            }),
    }
}

/// Every supported version found, each with the first interpreter found for it.
pub fn available() -> BTreeMap<Version, Interpreter> {
    let mut found = BTreeMap::new();
    for minor in SUPPORTED {
        let version = Version { major: 3, minor };
        if let Some(executable) = candidates(version).into_iter().find(|p| is_executable(p)) {
            found.insert(
                version,
                Interpreter {
                    executable,
                    version: Some(version),
                },
            );
        }
    }
    found
}

fn describe_available(found: &BTreeMap<Version, Interpreter>) -> String {
    if found.is_empty() {
        return "no CPython 3.9-3.13 is installed where snipcheck looks".into();
    }
    let list: Vec<String> = found
        .iter()
        .map(|(version, i)| format!("{version} ({})", i.executable.display()))
        .collect();
    format!("available: {}", list.join(", "))
}

/// Where `python3.X` may be: PATH, pyenv's versions, uv's managed Pythons.
fn candidates(version: Version) -> Vec<PathBuf> {
    let name = format!("python{version}");
    let mut paths: Vec<PathBuf> = path_entries().map(|dir| dir.join(&name)).collect();
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let pyenv_root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".pyenv")));
    if let Some(root) = pyenv_root {
        paths.extend(versions_in(
            &root.join("versions"),
            &format!("{version}."),
            &name,
        ));
    }
    let uv_root = std::env::var_os("UV_PYTHON_INSTALL_DIR")
        .map(PathBuf::from)
        .or_else(|| home.map(|h| h.join(".local/share/uv/python")));
    if let Some(root) = uv_root {
        paths.extend(versions_in(&root, &format!("cpython-{version}."), &name));
    }
    paths
}

/// `DIR/<prefix>*/bin/NAME`, newest release first.
fn versions_in(dir: &Path, prefix: &str, name: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut folders: Vec<(Vec<u32>, PathBuf)> = entries
        .flatten()
        .filter_map(|entry| {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            let rest = file_name.strip_prefix(prefix)?;
            // Only plain releases (3.12.1), not 3.12-dev or 3.12.1t (free-threaded).
            let release: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            let after = &rest[release.len()..];
            if release.is_empty() || !(after.is_empty() || after.starts_with('-')) {
                return None;
            }
            let key = release.parse().ok().map(|patch| vec![patch])?;
            Some((key, entry.path().join("bin").join(name)))
        })
        .collect();
    folders.sort_by(|a, b| b.0.cmp(&a.0));
    folders.into_iter().map(|(_, path)| path).collect()
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The folders of PATH, without pyenv's shims: a shim of a version that is installed but
/// not selected fails when run (pyenv's own versions are searched directly).
fn path_entries() -> impl Iterator<Item = PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .filter(|dir| !dir.ends_with("shims"))
        .collect::<Vec<_>>()
        .into_iter()
}

/// `python3` on PATH (a pyenv shim included: it runs the selected version).
fn default_interpreter() -> Option<Interpreter> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let executable = std::env::split_paths(&path)
        .map(|dir| dir.join("python3"))
        .find(|p| is_executable(p))?;
    Some(Interpreter {
        executable,
        version: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_their_text() {
        let v = |text| Version::parse(text);
        assert_eq!(
            v("3.12"),
            Some(Version {
                major: 3,
                minor: 12
            })
        );
        assert_eq!(v("3.9.18"), Some(Version { major: 3, minor: 9 }));
        assert_eq!(
            v("3.13.0+"),
            Some(Version {
                major: 3,
                minor: 13
            })
        );
        assert_eq!(v("three"), None);
        assert!(!v("3.8").unwrap().is_supported());
        assert!(!v("3.14").unwrap().is_supported());
        assert!(!v("2.7").unwrap().is_supported());
        assert!(v("3.11").unwrap().is_supported());
    }

    #[test]
    fn pyenv_folders_give_plain_releases_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "3.12.1",
            "3.12.10",
            "3.12-dev",
            "3.12.2t",
            "3.11.7",
            "3.12.3-debug",
        ] {
            std::fs::create_dir(dir.path().join(name)).unwrap();
        }
        let found = versions_in(dir.path(), "3.12.", "python3.12");
        let names: Vec<String> = found
            .iter()
            .map(|p| {
                p.components()
                    .nth_back(2)
                    .unwrap()
                    .as_os_str()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, ["3.12.10", "3.12.3-debug", "3.12.1"]);
    }

    #[test]
    fn an_unsupported_version_asked_for_is_refused_with_the_range() {
        let err = find(Version::parse("3.8")).unwrap_err().to_string();
        assert!(err.contains("3.9-3.13"), "{err}");
    }
}

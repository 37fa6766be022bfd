//! The Python environment snippets run in: a virtualenv built from a requirements file and
//! cached by its fingerprint, or one the user already has.
//!
//! Nothing here starts the embedded interpreter; it only shells out to `python -m venv` and pip.

use std::fs;
use std::os::fd::{AsFd, AsRawFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

/// `major.minor` of the libpython this binary is linked against.
pub const LINKED_PYTHON_VERSION: &str = env!("SNIPCHECK_LINKED_PYTHON_VERSION");

/// The interpreter found at build time; its version matches the linked libpython.
const BUILD_PYTHON: &str = env!("SNIPCHECK_BUILD_PYTHON");

/// Bumped when the layout of cached environments changes, so old ones are not reused.
const LAYOUT_VERSION: &str = "1";

/// Written last, after pip succeeded: an environment without it is incomplete and rebuilt.
const COMPLETE_MARKER: &str = ".snipcheck-complete";

/// A virtualenv ready to run snippets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonEnv {
    /// The venv's root folder (its `sys.prefix`).
    pub root: PathBuf,
}

impl PythonEnv {
    /// The venv's interpreter: the embedded CPython takes it as `sys.executable`.
    pub fn executable(&self) -> PathBuf {
        self.root.join("bin").join("python")
    }

    /// A short, stable identity of the environment, for cache keys and the record.
    pub fn fingerprint(&self) -> Result<String> {
        let cfg = fs::read_to_string(self.root.join("pyvenv.cfg")).unwrap_or_default();
        let mut hasher = Sha256::new();
        hasher.update(self.root.to_string_lossy().as_bytes());
        hasher.update(cfg.as_bytes());
        hasher.update(installed_distributions(&self.root).join("\n").as_bytes());
        Ok(hex(&hasher.finalize())[..16].to_string())
    }
}

/// Uses an existing venv after checking that its Python matches the embedded one.
pub fn existing(root: &Path) -> Result<PythonEnv> {
    let env = PythonEnv {
        root: root.to_path_buf(),
    };
    if !env.executable().exists() {
        bail!(
            "{} is not a Python virtual environment (no bin/python in it)",
            root.display()
        );
    }
    check_version(&env)?;
    Ok(env)
}

/// Creates (or reuses, when the requirements did not change) a venv under `cache_dir`.
///
/// With no requirements the venv is empty: snippets see only the standard library.
/// Progress goes to stderr so that stdout stays clean for machine-readable output.
pub fn from_requirements(requirements: Option<&Path>, cache_dir: &Path) -> Result<PythonEnv> {
    let requirements_text = match requirements {
        Some(path) => fs::read_to_string(path)
            .with_context(|| format!("cannot read requirements file {}", path.display()))?,
        None => String::new(),
    };
    let fingerprint = {
        let mut hasher = Sha256::new();
        for part in [LAYOUT_VERSION, BUILD_PYTHON, LINKED_PYTHON_VERSION] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        hasher.update(requirements_text.as_bytes());
        hex(&hasher.finalize())[..16].to_string()
    };
    let venvs = cache_dir.join("venvs");
    fs::create_dir_all(&venvs)
        .with_context(|| format!("cannot create cache folder {}", venvs.display()))?;
    let root = venvs.join(&fingerprint);
    let env = PythonEnv { root: root.clone() };

    // Several snipcheck runs (parallel tests, two terminals) may want the same venv at once.
    let _lock = FileLock::acquire(&venvs.join(format!("{fingerprint}.lock")))?;
    if root.join(COMPLETE_MARKER).exists() {
        return Ok(env);
    }
    if root.exists() {
        fs::remove_dir_all(&root)
            .with_context(|| format!("cannot remove incomplete environment {}", root.display()))?;
    }

    let packages = requirements_text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .count();
    let contents = match (requirements, packages) {
        (None, _) => "standard library only".to_string(),
        (Some(path), 1) => format!("1 requirement from {}", path.display()),
        (Some(path), n) => format!("{n} requirements from {}", path.display()),
    };
    eprintln!(
        "snipcheck: creating the Python environment {} ({contents}); later runs reuse it",
        root.display()
    );
    let mut venv = Command::new(BUILD_PYTHON);
    venv.args(["-m", "venv"]);
    if requirements.is_none() {
        venv.arg("--without-pip");
    }
    venv.arg(&root);
    run_showing_progress(venv, "python -m venv")?;

    if let Some(path) = requirements {
        let mut pip = Command::new(env.executable());
        pip.args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
            "-r",
        ])
        .arg(path);
        run_showing_progress(pip, "pip install")?;
    }
    check_version(&env)?;
    fs::write(root.join(COMPLETE_MARKER), &requirements_text)
        .with_context(|| format!("cannot write to {}", root.display()))?;
    Ok(env)
}

/// Refuses an environment whose Python is not the version of the linked libpython: its
/// compiled packages would load into the wrong interpreter.
fn check_version(env: &PythonEnv) -> Result<()> {
    let version = venv_python_version(&env.root)?;
    if version != LINKED_PYTHON_VERSION {
        bail!(
            "the environment {} uses Python {version}, but snipcheck embeds Python {LINKED_PYTHON_VERSION}; \
             create the environment with python{LINKED_PYTHON_VERSION} (or rebuild snipcheck against Python {version})",
            env.root.display()
        );
    }
    Ok(())
}

/// `major.minor` of a venv's Python, read from `pyvenv.cfg` (no interpreter started).
fn venv_python_version(root: &Path) -> Result<String> {
    let cfg_path = root.join("pyvenv.cfg");
    let cfg = fs::read_to_string(&cfg_path)
        .with_context(|| format!("{} has no readable pyvenv.cfg", root.display()))?;
    let full = cfg
        .lines()
        .filter_map(|line| line.split_once('='))
        .find(|(key, _)| matches!(key.trim(), "version" | "version_info"))
        .map(|(_, value)| value.trim().to_string())
        .with_context(|| format!("{} does not say which Python it uses", cfg_path.display()))?;
    Ok(full.split('.').take(2).collect::<Vec<_>>().join("."))
}

/// Names and versions of what is installed, from the `.dist-info` folder names: cheap, and
/// changes whenever pip installs, removes or upgrades anything.
fn installed_distributions(root: &Path) -> Vec<String> {
    let mut names = Vec::new();
    let Ok(lib) = fs::read_dir(root.join("lib")) else {
        return names;
    };
    for python_dir in lib.flatten() {
        if let Ok(entries) = fs::read_dir(python_dir.path().join("site-packages")) {
            names.extend(
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".dist-info")),
            );
        }
    }
    names.sort();
    names
}

/// Runs a setup command with its output on our stderr, so the user sees pip's progress.
fn run_showing_progress(mut command: Command, what: &str) -> Result<()> {
    let stderr = std::io::stderr().as_fd().try_clone_to_owned()?;
    command
        .stdin(Stdio::null())
        .stdout(Stdio::from(stderr.try_clone()?))
        .stderr(Stdio::from(stderr));
    let status = command
        .status()
        .with_context(|| format!("cannot run {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status}); see its output above");
    }
    Ok(())
}

/// An exclusive advisory lock on a file, released when dropped.
struct FileLock(fs::File);

impl FileLock {
    fn acquire(path: &Path) -> Result<FileLock> {
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .with_context(|| format!("cannot open lock file {}", path.display()))?;
        // SAFETY: flock on a file descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            bail!(
                "cannot lock {}: {}",
                path.display(),
                std::io::Error::last_os_error()
            );
        }
        Ok(FileLock(file))
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // SAFETY: unlocking the descriptor locked in `acquire`.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_version_from_pyvenv_cfg() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("pyvenv.cfg"),
            "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.7\n",
        )
        .unwrap();
        assert_eq!(venv_python_version(dir.path()).unwrap(), "3.11");
    }

    #[test]
    fn refuses_a_folder_that_is_not_a_venv() {
        let dir = tempfile::tempdir().unwrap();
        let err = existing(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not a Python virtual environment"), "{err}");
    }

    #[test]
    fn refuses_a_venv_of_another_python() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("bin")).unwrap();
        fs::write(dir.path().join("bin/python"), "").unwrap();
        fs::write(dir.path().join("pyvenv.cfg"), "version = 2.7.18\n").unwrap();
        let err = existing(dir.path()).unwrap_err().to_string();
        assert!(err.contains("uses Python 2.7"), "{err}");
        assert!(err.contains(LINKED_PYTHON_VERSION), "{err}");
    }
}

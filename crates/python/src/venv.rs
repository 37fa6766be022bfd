//! The Python environment snippets run in: a virtualenv built from a requirements file and
//! cached by its fingerprint, or one the user already has.
//!
//! Nothing here starts the embedded interpreter; it only shells out to `python -m venv` and pip.

use std::collections::BTreeMap;
use std::fs;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use crate::interpreters::{Interpreter, Version};

/// Bumped when the layout of cached environments changes, so old ones are not reused.
const LAYOUT_VERSION: &str = "2";

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

    /// Its Python's version, from `pyvenv.cfg` (no interpreter started).
    pub fn version(&self) -> Result<Version> {
        let text = venv_python_version(&self.root)?;
        Version::parse(&text).with_context(|| {
            format!(
                "{} names an unreadable Python version {text:?}",
                self.root.join("pyvenv.cfg").display()
            )
        })
    }

    /// The shared libpython its interpreter was built with: what the worker embeds. Asked
    /// of the interpreter once per environment and process.
    pub fn libpython(&self) -> Result<PathBuf> {
        static KNOWN: Mutex<BTreeMap<PathBuf, PathBuf>> = Mutex::new(BTreeMap::new());
        // Held while the interpreter is asked: the workers of a run start at once, and each
        // asked it before.
        let mut known = KNOWN
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(found) = known.get(&self.root) {
            return Ok(found.clone());
        }
        let found = find_libpython(&self.executable()).with_context(|| {
            format!(
                "cannot run snippets in the environment {}",
                self.root.display()
            )
        })?;
        known.insert(self.root.clone(), found.clone());
        Ok(found)
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

/// A virtualenv found without being named, and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveEnv {
    pub root: PathBuf,
    /// `the active virtualenv (VIRTUAL_ENV)` or `the virtualenv snipcheck is installed in`.
    pub why: &'static str,
}

/// The activated virtualenv (`VIRTUAL_ENV`), else the one the running program is installed
/// in (`<venv>/bin/snipcheck`), as a test runner installed there would use.
pub fn active() -> Option<ActiveEnv> {
    let is_venv = |root: &Path| root.join("pyvenv.cfg").is_file();
    if let Some(root) = std::env::var_os("VIRTUAL_ENV").map(PathBuf::from) {
        if is_venv(&root) {
            return Some(ActiveEnv {
                root,
                why: "the active virtualenv (VIRTUAL_ENV)",
            });
        }
    }
    let exe = std::env::current_exe().ok()?;
    let root = exe.parent()?.parent()?;
    is_venv(root).then(|| ActiveEnv {
        root: root.to_path_buf(),
        why: "the virtualenv snipcheck is installed in",
    })
}

/// Uses an existing venv after checking that the worker can embed its Python.
pub fn existing(root: &Path) -> Result<PythonEnv> {
    let env = PythonEnv {
        root: root.to_path_buf(),
    };
    let executable = env.executable();
    if !executable.exists() {
        if let Ok(target) = fs::read_link(&executable) {
            bail!(
                "the environment {} is broken: its {} links to {}, which does not exist (was \
                 the Python it was made from removed?)",
                root.display(),
                executable.display(),
                target.display()
            );
        }
        bail!(
            "{} is not a Python virtual environment (no bin/python in it)",
            root.display()
        );
    }
    check_version(&env)?;
    Ok(env)
}

/// Creates (or reuses, when the requirements and the interpreter did not change) a venv of
/// `base` under `cache_dir`.
///
/// With no requirements the venv is empty: snippets see only the standard library.
/// Progress goes to stderr so that stdout stays clean for machine-readable output.
pub fn from_requirements(
    requirements: Option<&Path>,
    cache_dir: &Path,
    base: &Interpreter,
) -> Result<PythonEnv> {
    let requirements_text = match requirements {
        Some(path) => fs::read_to_string(path)
            .with_context(|| format!("cannot read requirements file {}", path.display()))?,
        None => String::new(),
    };
    let fingerprint = {
        let mut hasher = Sha256::new();
        let base_version = base.version.map_or("python3".into(), |v| v.to_string());
        for part in [
            LAYOUT_VERSION.as_bytes(),
            base.executable.as_os_str().as_bytes(),
            base_version.as_bytes(),
        ] {
            hasher.update(part);
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
        "snipcheck: creating the Python environment {} with {} ({contents}); later runs reuse it",
        root.display(),
        base.executable.display()
    );
    let mut venv = Command::new(&base.executable);
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

/// Refuses an environment whose Python the worker cannot embed.
fn check_version(env: &PythonEnv) -> Result<()> {
    env.version()?
        .check_supported(&format_args!("the environment {}", env.root.display()))
}

/// Where an interpreter's shared libpython is, asked of it (without site: fast, and the
/// answer cannot depend on what is installed).
fn find_libpython(executable: &Path) -> Result<PathBuf> {
    const ASK: &str = "import sys, sysconfig; v = sysconfig.get_config_var; \
        print(sys.implementation.name, v('Py_ENABLE_SHARED') or 0, v('LIBDIR'), v('INSTSONAME'), sep='\\n')";
    let output = Command::new(executable)
        .args(["-I", "-S", "-c", ASK])
        .stdin(Stdio::null())
        .output()
        .with_context(|| {
            format!(
                "cannot run the environment's Python {}",
                executable.display()
            )
        })?;
    if !output.status.success() {
        bail!(
            "the environment's Python {} does not run ({}): {}",
            executable.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let answer: Vec<&str> = text.lines().collect();
    let [implementation, shared, libdir, soname] = answer[..] else {
        bail!(
            "{} gave no answer about its libpython: {text:?}",
            executable.display()
        );
    };
    if implementation != "cpython" {
        bail!(
            "{} is {implementation}, but snipcheck embeds CPython only",
            executable.display()
        );
    }
    let library = Path::new(libdir).join(soname);
    if shared != "1" || !library.is_file() {
        bail!(
            "{} has no shared libpython (looked for {}): snipcheck embeds it, so it needs a \
             CPython built with --enable-shared (pyenv: PYTHON_CONFIGURE_OPTS=--enable-shared; \
             Debian: the libpython3.X package)",
            executable.display(),
            library.display()
        );
    }
    // The loader would only warn and carry on without it: say so here, once.
    let mut magic = [0u8; 4];
    let is_elf = fs::File::open(&library)
        .and_then(|mut file| std::io::Read::read_exact(&mut file, &mut magic))
        .is_ok()
        && magic == *b"\x7fELF";
    if !is_elf {
        bail!(
            "{}, the libpython of {}, is not a shared library",
            library.display(),
            executable.display()
        );
    }
    Ok(library)
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
        assert!(err.contains("3.9-3.13"), "{err}");
    }
}

//! Starting the embedded CPython on a virtualenv, through the stable ABI only.
//!
//! The limited API has no `PyConfig`, so the settings an isolated configuration gave are
//! made in other ways: the main process gives the worker a clean environment (no
//! `PYTHONPATH`, `PYTHONHOME`; `PYTHONNOUSERSITE`, `PYTHONHASHSEED=0`, `PYTHONUNBUFFERED`
//! and a UTF-8 `LC_CTYPE` where the locale is C, see `worker_process`), and the program
//! name below makes CPython find the venv's `pyvenv.cfg`, as `<venv>/bin/python` does.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;

use anyhow::{anyhow, bail, Result};
use pyo3::ffi;

use crate::venv::PythonEnv;

/// The variables the main process sets only for CPython's start-up; the worker removes them
/// (`os.environ` included) before any snippet runs, so snippets see the environment they
/// were given.
pub const STARTUP_VARIABLES: &[&str] = &["PYTHONHASHSEED", "PYTHONUNBUFFERED", "PYTHONNOUSERSITE"];

/// Whether a libpython is loaded into this process (the worker links none itself).
pub fn libpython_loaded() -> bool {
    // SAFETY: dlsym with a NUL-terminated name on the process's global scope.
    !unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"Py_IsInitialized".as_ptr()) }.is_null()
}

/// Initializes CPython so that `sys.executable`, `sys.prefix` and site-packages are the
/// venv's. Call once per process, before any other Python use.
pub fn start(env: &PythonEnv) -> Result<()> {
    let executable = CString::new(env.executable().as_os_str().as_bytes())
        .map_err(|_| anyhow!("the environment path contains a NUL byte"))?;
    // SAFETY: called once, on this thread, before any other Python API call; the program
    // name must outlive the interpreter, so it is leaked on purpose.
    unsafe {
        if ffi::Py_IsInitialized() != 0 {
            bail!("the Python interpreter is already running");
        }
        let program = ffi::Py_DecodeLocale(executable.as_ptr(), std::ptr::null_mut());
        if program.is_null() {
            bail!("cannot decode the path {}", env.executable().display());
        }
        #[allow(deprecated)] // the limited API's only way to name the program (3.9-3.13)
        ffi::Py_SetProgramName(program);
        // 0: no signal handlers of CPython's, so that our supervisor's SIGTERM ends a child
        // at once.
        ffi::Py_InitializeEx(0);
        if ffi::Py_IsInitialized() == 0 {
            bail!("cannot start Python on {}", env.root.display());
        }
        // Py_InitializeEx leaves this thread attached; pyo3 attaches on demand.
        ffi::PyEval_SaveThread();
    }
    Ok(())
}

//! Starting the embedded CPython on a virtualenv.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;

use anyhow::{anyhow, bail, Result};
use pyo3::ffi;

use crate::venv::PythonEnv;

/// Initializes CPython so that `sys.executable`, `sys.prefix` and site-packages are the
/// venv's, not those of whatever `python3` comes first on PATH.
///
/// The configuration is isolated: `PYTHONPATH`, `PYTHONHOME` and the user's site folder
/// cannot change what the snippets see. Call once per process, before any other Python use.
pub fn start(env: &PythonEnv) -> Result<()> {
    let executable = CString::new(env.executable().as_os_str().as_bytes())
        .map_err(|_| anyhow!("the environment path contains a NUL byte"))?;
    // SAFETY: the PyConfig is initialized by CPython before use, cleared on every path, and
    // Py_InitializeFromConfig runs once, on this thread, before any other Python API call.
    unsafe {
        if ffi::Py_IsInitialized() != 0 {
            bail!("the Python interpreter is already running");
        }
        // UTF-8 mode, as `python -X utf8`: the isolated configuration leaves the C locale,
        // whose ASCII stdio would make a snippet printing `’` fail where `python3` (which
        // coerces that locale to UTF-8) prints it.
        let mut preconfig = std::mem::MaybeUninit::<ffi::PyPreConfig>::zeroed();
        ffi::PyPreConfig_InitIsolatedConfig(preconfig.as_mut_ptr());
        let mut preconfig = preconfig.assume_init();
        preconfig.utf8_mode = 1;
        let status = ffi::Py_PreInitialize(&preconfig);
        if ffi::PyStatus_Exception(status) != 0 {
            bail!("cannot configure Python: {}", status_message(status));
        }
        let mut config = std::mem::MaybeUninit::<ffi::PyConfig>::zeroed();
        ffi::PyConfig_InitIsolatedConfig(config.as_mut_ptr());
        let mut config = config.assume_init();
        // Snippets run as `python -c` would: no argv of ours, and the default signal handling
        // off so that our supervisor's SIGTERM ends a child at once.
        config.install_signal_handlers = 0;
        // Unbuffered stdio, as `python -u`: what a snippet printed before it hung or
        // crashed is already in the capture file when the supervisor reads it.
        config.buffered_stdio = 0;
        // A fixed hash seed: set iteration order, and so printed output, is the same on
        // every run, as CI needs (PYTHONHASHSEED is ignored by the isolated config).
        config.use_hash_seed = 1;
        config.hash_seed = 0;
        let status =
            ffi::PyConfig_SetBytesString(&mut config, &mut config.executable, executable.as_ptr());
        if ffi::PyStatus_Exception(status) != 0 {
            ffi::PyConfig_Clear(&mut config);
            bail!("cannot configure Python: {}", status_message(status));
        }
        let status = ffi::Py_InitializeFromConfig(&config);
        ffi::PyConfig_Clear(&mut config);
        if ffi::PyStatus_Exception(status) != 0 {
            bail!(
                "cannot start Python on {}: {}",
                env.root.display(),
                status_message(status)
            );
        }
        // Py_InitializeFromConfig leaves this thread attached; pyo3 attaches on demand.
        ffi::PyEval_SaveThread();
    }
    Ok(())
}

fn status_message(status: ffi::PyStatus) -> String {
    if status.err_msg.is_null() {
        return "unknown error".into();
    }
    // SAFETY: CPython sets err_msg to a static NUL-terminated string.
    unsafe { std::ffi::CStr::from_ptr(status.err_msg) }
        .to_string_lossy()
        .into_owned()
}

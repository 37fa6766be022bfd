//! What a front end asks of a check: the command line's choices as plain data.

use std::path::PathBuf;

use crate::config::Isolate;

/// One check as asked for. Every field left at its default defers to the config file.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Documents or folders to check; empty: the documents the config lists.
    pub paths: Vec<PathBuf>,
    /// The config file; `None`: `./snipcheck.yaml`, else `./snippets/snipcheck.yaml`.
    pub config: Option<PathBuf>,
    /// An existing virtualenv to use instead of one built from the requirements.
    pub python_env: Option<PathBuf>,
    /// The Python version (`3.12`) of the environment built from the requirements; `None`:
    /// the config's `python.version`, else `python3` on PATH.
    pub python: Option<String>,
    /// Per-snippet time limit, seconds.
    pub timeout: Option<f64>,
    /// Worker processes; `None`: the config's, else the number of cores.
    pub jobs: Option<usize>,
    pub isolate: Option<Isolate>,
    /// Where environments, indexes and remembered verdicts are kept.
    pub cache_dir: Option<PathBuf>,
    /// Run every snippet without its setup fixtures.
    pub no_fixtures: bool,
    /// Do not answer from the result cache (fresh verdicts are still kept).
    pub no_cache: bool,
    /// Snippet ids or `PATH:LINE`s to narrow the run to.
    pub select: Vec<String>,
    /// Only the documents git sees changed since this revision.
    pub changed_since: Option<String>,
    /// Also write the results into the committed record.
    pub update: bool,
    /// Texts to check instead of what these files hold (an editor's unsaved buffers).
    pub texts: Vec<(PathBuf, String)>,
    /// Check only this shard of the documents (`--shard I/N`); its record says which.
    pub shard: Option<snipcheck_shard::Shard>,
    /// The worker binary that runs the snippets (`snipcheck-worker`); `None`:
    /// `snipcheck_python::worker_process::default_worker_program`.
    pub worker_program: Option<PathBuf>,
}

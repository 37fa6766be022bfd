//! Runs snippets under an embedded CPython.
//!
//! The only crate that touches pyo3. Layout follows the process model: [`venv`] prepares
//! the environment (no interpreter), [`pool`] runs in the main process and drives worker
//! processes, [`worker`] is the `__worker` subcommand that embeds CPython and forks a child
//! per document, `supervise` watches that child, and `child` runs in it; [`session`] keeps
//! workers warm between runs. The child's Python
//! is one file per job: `snippet.py` runs a snippet (with `runner.py`, which executes code,
//! and `doctest_runner.py`), `classify.py` turns how it ended into a verdict; the worker
//! itself uses `warmup.py` and `network.py`. [`skips`] turns the docstrings the runner did
//! not check into diagnostics. [`resolve`] and `resolver.py` check the API names the prose
//! mentions, in the same workers. [`protocol`] holds every message between the processes
//! and `process` the primitives every role uses.

mod capture;
mod child;
mod huge_pages;
mod import_weight;
mod imports;
mod interpreter;
pub mod interpreters;
pub mod interrupt;
mod lines;
mod pid_namespace;
pub mod pool;
mod process;
pub mod protocol;
pub mod resolve;
pub mod sandbox;
pub mod session;
mod shared_state;
mod side_resolve;
pub mod skips;
mod supervise;
pub mod venv;
mod work_folders;
pub mod worker;
pub mod worker_process;

pub use interrupt::Cancel;
pub use pool::{DocumentJob, PoolResult, Progress};
pub use protocol::{Fixture, Isolation};
pub use sandbox::SandboxOptions;
pub use session::{Session, SessionStatus};
pub use venv::PythonEnv;
pub use worker_process::PoolOptions;

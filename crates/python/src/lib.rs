//! Runs snippets under an embedded CPython.
//!
//! The only crate that touches pyo3. Layout follows the process model: [`venv`] prepares
//! the environment (no interpreter), [`pool`] runs in the main process and drives worker
//! processes, [`worker`] is the `__worker` subcommand that embeds CPython and forks a child
//! per document, and `child` plus `runner.py` run snippets and classify how they ended.
//! [`resolve`] and `resolver.py` check the API names the prose mentions, in the same workers.

mod capture;
mod child;
mod imports;
mod interpreter;
mod lines;
mod pid_namespace;
pub mod pool;
mod process;
pub mod protocol;
pub mod resolve;
pub mod sandbox;
mod supervise;
pub mod venv;
pub mod worker;

pub use pool::{DocumentJob, PoolOptions, PoolResult, Progress};
pub use protocol::{Fixture, Isolation};
pub use sandbox::SandboxOptions;
pub use venv::PythonEnv;

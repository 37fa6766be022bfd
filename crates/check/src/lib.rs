//! The whole check of a documentation set, for any front end (the `snipcheck` binary is
//! one): load the config, find and extract the documents, apply fixtures and markers, run
//! the snippets the result cache cannot answer while the prose's API names are resolved,
//! and compare the record with the committed one. The library prints nothing: progress
//! goes to an [`Observer`], and the result is a [`CheckRun`] to report as the caller likes.
//!
//! Snippets run in worker processes of the `snipcheck-worker` binary
//! ([`CheckOptions::worker_program`]; by default `SNIPCHECK_WORKER`, else the one beside the
//! running program), which embeds the environment's CPython. The example needs that binary,
//! so it is only compiled here (the `snipcheck` binary's tests run this same check):
//!
//! ```no_run
//! use snipcheck_check::{check, CheckOptions, GateOutcome, Silent};
//!
//! fn main() -> anyhow::Result<()> {
//!     let dir = tempfile::tempdir()?;
//!     let guide = dir.path().join("guide.md");
//!     std::fs::write(&guide, "```python\nassert sorted([3, 1, 2]) == [1, 2, 3]\n```\n")?;
//!
//!     let options = CheckOptions { paths: vec![guide], ..CheckOptions::default() };
//!     let run = check(&options, &mut Silent)?;
//!     assert_eq!(run.outcome, GateOutcome::Passed);
//!     assert_eq!(run.record.summary.passed, 1);
//!     Ok(())
//! }
//! ```
//!
//! Modules, in the order a check uses them: [`config`] (the model of `snipcheck.yaml`),
//! `inputs` (documents and snippets), `fixtures` (the config's fixtures and markers),
//! `references` (the prose's names), `execute` (the pool and the result cache), `suggest`
//! (what a failed snippet should have written), `gate`
//! (the committed record).

mod check;
pub mod config;
mod execute;
mod files;
mod fixtures;
mod gate;
mod inputs;
mod observer;
mod options;
mod references;
mod suggest;
pub mod watched;

pub use check::{accept, cache, check, check_in, merge, Cancelled, CheckRun};
pub use files::{read_record, write_atomically};
pub use gate::GateOutcome;
pub use observer::{Observer, Silent};
pub use options::CheckOptions;
pub use snipcheck_python::{Cancel, Session, SessionStatus};
pub use snipcheck_shard::Shard;

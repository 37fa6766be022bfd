//! Messages between the main process and its workers, and between a worker and its
//! forked child: one JSON object per line.

use serde::{Deserialize, Serialize};
use snipcheck_record::{Outcome, PythonInfo, Snippet};

/// Work for a worker: run `snippets[start..]` of one document, in order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    /// Identifies the job in the replies.
    pub job: usize,
    pub snippets: Vec<Snippet>,
    /// Index of the first snippet to run: a job is resumed after a worker died.
    #[serde(default)]
    pub start: usize,
    /// Per-snippet time limit, in seconds.
    pub timeout_s: f64,
}

/// A line the main process sends a worker: snippets to run, or names to resolve.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Request {
    Resolve(crate::resolve::ResolveJob),
    Run(Job),
}

/// What a worker tells the main process.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum WorkerMessage {
    /// The interpreter is up and the warm-up imports are done.
    Ready { python: PythonInfo },
    /// A snippet began running.
    Started { job: usize, index: usize },
    /// A snippet's verdict.
    Finished {
        job: usize,
        index: usize,
        outcome: Outcome,
    },
    /// Every snippet of the job has a verdict.
    Done { job: usize },
    /// The worker cannot go on (the interpreter did not start, say).
    Fatal { message: String },
}

/// What a forked child tells its worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ChildMessage {
    Started { index: usize },
    Finished { index: usize, outcome: Outcome },
}

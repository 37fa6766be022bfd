//! Checking the API names the prose mentions against the installed libraries.
//!
//! The main process sends one [`ResolveJob`](crate::protocol::ResolveJob) to a worker (the same `__worker` process that
//! runs snippets). The worker forks a child per library, bounded in time, which imports the
//! library and answers each query through `resolver.py`: resolved (with its public home),
//! unresolved (with suggestions), or unchecked (the library is missing or broken, say why).
//! A library that hangs or crashes while importing costs only its own answers.

use std::collections::{BTreeMap, HashSet};
use std::ffi::CString;
use std::fs::File;
use std::os::fd::{AsRawFd, RawFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use pyo3::prelude::*;
use pyo3::types::PyModule;
use snipcheck_record::ReferenceStatus;

use crate::capture::pipe;
use crate::lines::{LineBuffer, ReadLine};
use crate::process::{fork_python, reap, send, signal_name};
use crate::protocol::{Answer, Query, ResolveJob, ResolveMessage};
use crate::supervise::kill_group;
use crate::worker_process::{PoolOptions, Worker};

/// How to resolve: the worker to start, and the job's limits.
#[derive(Debug, Clone)]
pub struct ResolveOptions {
    pub worker: PoolOptions,
    pub cache_dir: Option<PathBuf>,
    pub index_budget_s: f64,
    pub timeout_s: f64,
}

/// Answers every query, in the order given. Runs in the main process: starts one worker.
pub fn resolve(options: &ResolveOptions, queries: &[Query]) -> Result<Vec<Answer>> {
    if queries.is_empty() {
        return Ok(Vec::new());
    }
    let (mut worker, ..) = Worker::start(&options.worker, Vec::new())?;
    worker
        .send(&ResolveJob {
            resolve: queries.to_vec(),
            cache_dir: options.cache_dir.clone(),
            index_budget_s: options.index_budget_s,
            timeout_s: options.timeout_s,
        })
        .context("the resolving worker stopped listening")?;
    let mut answers: BTreeMap<usize, Answer> = BTreeMap::new();
    while let Some(ResolveMessage::Answer { answer }) = worker.next::<ResolveMessage>()? {
        answers.insert(answer.id, answer);
    }
    Ok(queries
        .iter()
        .map(|q| {
            answers.remove(&q.id).unwrap_or_else(|| {
                unchecked(q.id, "the worker resolving names stopped before answering")
            })
        })
        .collect())
}

fn unchecked(id: usize, reason: &str) -> Answer {
    Answer {
        id,
        status: ReferenceStatus::Unchecked,
        resolved: None,
        suggestions: Vec::new(),
        reason: Some(reason.to_string()),
        module_found: false,
        score: 0.0,
    }
}

/// Worker side: answers a job, one forked child per library, then says it is done.
pub(crate) fn serve(job: &ResolveJob, protocol: &mut File) -> Result<()> {
    let resolver = Python::attach(|py| -> Result<Py<PyModule>> {
        let code = CString::new(include_str!("resolver.py"))?;
        let module =
            PyModule::from_code(py, &code, c"<snipcheck resolver>", c"_snipcheck_resolver")
                .map_err(|err| anyhow!("cannot load the name resolver: {err}"))?;
        Ok(module.unbind())
    })?;
    let mut libraries: Vec<(&str, Vec<&Query>)> = Vec::new();
    for query in &job.resolve {
        match libraries.iter_mut().find(|(l, _)| *l == query.library) {
            Some((_, list)) => list.push(query),
            None => libraries.push((&query.library, vec![query])),
        }
    }
    for (library, queries) in libraries {
        resolve_library(job, library, &queries, &resolver, protocol)?;
    }
    send(protocol, &ResolveMessage::Done)
}

fn resolve_library(
    job: &ResolveJob,
    library: &str,
    queries: &[&Query],
    resolver: &Py<PyModule>,
    protocol: &mut File,
) -> Result<()> {
    let request = serde_json::json!({
        "library": library,
        "queries": queries,
        "cache_dir": job.cache_dir,
        "index_budget_s": job.index_budget_s,
    })
    .to_string();
    let (read_end, write_end) = pipe().context("cannot create a pipe")?;
    let pid = Python::attach(|py| {
        let pid = fork_python(py);
        if pid == 0 {
            child(
                py,
                resolver,
                &request,
                write_end.as_raw_fd(),
                &[read_end.as_raw_fd(), protocol.as_raw_fd()],
            );
        }
        pid
    });
    // The parent's copy of the write end must go, so the child's exit reads as end-of-file.
    drop(write_end);
    let mut reports = LineBuffer::new(read_end);
    if pid < 0 {
        return Err(std::io::Error::last_os_error()).context("cannot fork");
    }
    // SAFETY: setpgid on our own child, so a kill reaches whatever it started.
    unsafe { libc::setpgid(pid, pid) };

    let limit = Duration::from_secs_f64(job.timeout_s.max(0.001));
    let deadline = Instant::now() + limit;
    let mut answered: HashSet<usize> = HashSet::new();
    let failure = loop {
        match reports.read_line(deadline) {
            ReadLine::Line(line) => match serde_json::from_str::<Answer>(&line) {
                Ok(answer) => {
                    answered.insert(answer.id);
                    send(protocol, &ResolveMessage::Answer { answer })?;
                }
                Err(err) => {
                    eprintln!("snipcheck worker: unreadable answer from the resolver: {err}")
                }
            },
            ReadLine::TimedOut => {
                kill_group(pid);
                break format!(
                    "gave up after {:.0} s importing or indexing {library}",
                    job.timeout_s
                );
            }
            ReadLine::Eof => {
                let status = reap(pid);
                // SAFETY: signalling our own child's process group.
                unsafe { libc::killpg(pid, libc::SIGKILL) };
                break if libc::WIFSIGNALED(status) {
                    let signal = libc::WTERMSIG(status);
                    format!(
                        "the process checking {library} died by signal {signal} ({})",
                        signal_name(signal)
                    )
                } else {
                    format!("the process checking {library} ended before answering")
                };
            }
        }
    };
    for query in queries.iter().filter(|q| !answered.contains(&q.id)) {
        let answer = unchecked(query.id, &failure);
        send(protocol, &ResolveMessage::Answer { answer })?;
    }
    Ok(())
}

/// Runs in the forked child; never returns.
fn child(
    py: Python<'_>,
    resolver: &Py<PyModule>,
    request: &str,
    report: RawFd,
    close: &[RawFd],
) -> ! {
    // Libraries print while importing (TensorFlow's logs): keep the terminal clean.
    // SAFETY: right after the fork, in a single-threaded child.
    unsafe { crate::process::after_fork(close, None, None) };
    let _ = resolver
        .bind(py)
        .call_method1("resolve_library", (request, report));
    // SAFETY: leave without running exit handlers: they belong to the worker.
    unsafe { libc::_exit(0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_told_apart() {
        use crate::protocol::Request;
        let resolve = r#"{"resolve":[],"cache_dir":null,"index_budget_s":1,"timeout_s":2}"#;
        assert!(matches!(
            serde_json::from_str::<Request>(resolve).unwrap(),
            Request::Resolve(_)
        ));
        let run = r#"{"job":0,"snippets":[],"timeout_s":2}"#;
        assert!(matches!(
            serde_json::from_str::<Request>(run).unwrap(),
            Request::Run(_)
        ));
    }

    #[test]
    fn answers_from_the_resolver_parse() {
        let line = r#"{"id": 3, "status": "unresolved", "resolved": null, "suggestions": ["sklearn.metrics.r2_score"], "reason": null, "module_found": true}"#;
        let answer: Answer = serde_json::from_str(line).unwrap();
        assert_eq!(answer.status, ReferenceStatus::Unresolved);
        assert_eq!(answer.suggestions, vec!["sklearn.metrics.r2_score"]);
    }
}

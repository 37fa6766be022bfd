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
    let answers = ask(&mut worker, &job(options, queries))?;
    Ok(in_order(queries, answers))
}

/// The job that answers `queries`.
pub fn job(options: &ResolveOptions, queries: &[Query]) -> ResolveJob {
    ResolveJob {
        resolve: queries.to_vec(),
        cache_dir: options.cache_dir.clone(),
        index_budget_s: options.index_budget_s,
        timeout_s: options.timeout_s,
    }
}

/// Has `worker` (any worker: each library is resolved in a child it forks) answer `job`.
pub(crate) fn ask(worker: &mut Worker, job: &ResolveJob) -> Result<BTreeMap<usize, Answer>> {
    worker
        .send(job)
        .context("the resolving worker stopped listening")?;
    let mut answers: BTreeMap<usize, Answer> = BTreeMap::new();
    while let Some(ResolveMessage::Answer { answer }) = worker.next::<ResolveMessage>()? {
        answers.insert(answer.id, answer);
    }
    Ok(answers)
}

/// An answer for every query, in their order: unchecked where none came.
pub fn in_order(queries: &[Query], mut answers: BTreeMap<usize, Answer>) -> Vec<Answer> {
    queries
        .iter()
        .map(|q| {
            answers.remove(&q.id).unwrap_or_else(|| {
                unchecked(q.id, "the worker resolving names stopped before answering")
            })
        })
        .collect()
}

fn unchecked(id: usize, reason: &str) -> Answer {
    Answer {
        id,
        status: ReferenceStatus::Unchecked,
        resolved: None,
        suggestions: Vec::new(),
        reason: Some(reason.to_string()),
        module_found: false,
        not_installed: false,
        score: 0.0,
        near: false,
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

    /// Runs `script` in a plain `python3` with `resolver.py` loaded as `r`: its ranking
    /// needs no installed library, only an index built by hand.
    fn run_resolver_script(script: &str) {
        let prelude = "import importlib.util, sys\n\
            spec = importlib.util.spec_from_file_location('r', sys.argv[1])\n\
            r = importlib.util.module_from_spec(spec)\n\
            spec.loader.exec_module(r)\n";
        let output = std::process::Command::new("python3")
            .arg("-c")
            .arg(format!("{prelude}{script}"))
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/src/resolver.py"))
            .output()
            .expect("python3 runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    #[test]
    fn typos_cost_one_edit_per_swap_and_short_or_plural_words_are_no_typos() {
        run_resolver_script(
            "assert r._edits('JSONEnocdeError', 'JSONEncodeError', 2) == 1\n\
             assert r._edits('Tbale', 'Table', 1) == 1\n\
             assert r._edits('abcdef', 'badcfe', 2) == 3\n\
             assert not r._may_be_typo('false', 'False')\n\
             assert not r._may_be_typo('errors', 'error')\n\
             assert not r._may_be_typo('dataclass', 'dataclasses')\n\
             assert r._may_be_typo('TypEerror', 'TypeError')\n\
             assert r._typo_budget('PUT') == 0 and r._typo_budget('Table') == 1\n",
        );
    }

    #[test]
    fn near_misses_lead_with_the_public_home_of_the_implied_kind() {
        run_resolver_script(
            "ix = r._Index('lib', None, 1)\n\
             ix._names = {\n\
               'JSONDecodeError': [['lib.JSONDecodeError', 'class', 2]],\n\
               'JSONEncodeError': [['lib.JSONEncodeError', 'class', 2]],\n\
               'transformer': [['lib.nn.modules.transformer', 'module', 2]],\n\
               'Transformer': [['lib.nn.modules.transformer.Transformer', 'class', 2],\n\
                               ['lib.nn.Transformer', 'class', 1]],\n\
               'Decoder': [['lib.decoder', 'module', 2], ['lib.codec.Decoder', 'class', 2]],\n\
               'Error': [['lib.decoder.Error', 'class', 2], ['lib.Error', 'class', 1]],\n\
             }\n\
             assert ix.suggest('JSONEnocdeError', 'unknown', [])[0][0] == 'lib.JSONEncodeError'\n\
             found, score, near = ix.suggest('Tranfsormer', 'unknown', ['lib.nn'], exclude='lib.nn.Tranfsormer')\n\
             assert found[0] == 'lib.nn.Transformer' and near, found\n\
             assert ix.suggest('Decodre', 'unknown', [])[0][0] == 'lib.codec.Decoder'\n\
             assert ix.suggest('Errro', 'unknown', [], exclude='lib.decoder.Errro')[0][0] == 'lib.decoder.Error'\n\
             assert not ix.suggest('Imputer', 'class', [])[2]\n",
        );
    }

    #[test]
    fn a_library_that_cannot_be_imported_is_indexed_from_its_source() {
        run_resolver_script(
            "import os, tempfile, json\n\
             root = tempfile.mkdtemp()\n\
             pkg = os.path.join(root, 'brokenlib', 'parts')\n\
             os.makedirs(pkg)\n\
             open(os.path.join(root, 'brokenlib', '__init__.py'), 'w').write('raise AttributeError(\"np.sctypes\")\\nfrom brokenlib import parts\\n')\n\
             open(os.path.join(pkg, '__init__.py'), 'w').write('from .meta import *\\nfrom brokenlib.parts.flip import Fliplr as Flip\\n')\n\
             open(os.path.join(pkg, 'meta.py'), 'w').write('__all__ = [\"Augmenter\"]\\nclass Augmenter: pass\\nclass Hidden: pass\\n')\n\
             open(os.path.join(pkg, 'flip.py'), 'w').write('class Fliplr: pass\\n')\n\
             sys.path.insert(0, root)\n\
             out = []\n\
             request = {'library': 'brokenlib', 'queries': [\n\
               {'id': 0, 'name': 'brokenlib.Augmenter', 'path': 'brokenlib.Augmenter', 'kind': 'unknown'},\n\
               {'id': 1, 'name': 'Flip', 'path': 'brokenlib.parts.Flip', 'kind': 'unknown'},\n\
               {'id': 2, 'name': 'Hidden', 'path': 'brokenlib.parts.Hidden', 'kind': 'unknown'}]}\n\
             read, write = os.pipe()\n\
             r.resolve_library(json.dumps(request), write)\n\
             os.close(write)\n\
             answers = [json.loads(l) for l in os.fdopen(read).read().splitlines()]\n\
             assert answers[0]['status'] == 'unresolved', answers\n\
             assert answers[0]['suggestions'][0] == 'brokenlib.parts.Augmenter', answers\n\
             assert 'read from its source' in answers[0]['reason'], answers\n\
             assert answers[1]['status'] == 'resolved', answers\n\
             assert answers[2]['status'] == 'unresolved', answers\n",
        );
    }

    #[test]
    fn a_lazy_module_answers_typos_of_its_own_attributes() {
        run_resolver_script(
            "import os, tempfile, json\n\
             root = tempfile.mkdtemp()\n\
             open(os.path.join(root, 'lazylib.py'), 'w').write(\n\
               'import types\\n__all__ = [\"keras\"]\\n'\n\
               'def __getattr__(name):\\n'\n\
               '    if name == \"keras\":\\n'\n\
               '        return types.ModuleType(\"lazylib.keras\")\\n'\n\
               '    raise AttributeError(name)\\n')\n\
             sys.path.insert(0, root)\n\
             request = {'library': 'lazylib', 'queries': [\n\
               {'id': 0, 'name': 'lazylib.kreas', 'path': 'lazylib.kreas', 'kind': 'module'}]}\n\
             read, write = os.pipe()\n\
             r.resolve_library(json.dumps(request), write)\n\
             os.close(write)\n\
             answer = json.loads(os.fdopen(read).read())\n\
             assert answer['suggestions'] == ['lazylib.keras'] and answer['near'], answer\n",
        );
    }

    #[test]
    fn answers_from_the_resolver_parse() {
        let line = r#"{"id": 3, "status": "unresolved", "resolved": null, "suggestions": ["sklearn.metrics.r2_score"], "reason": null, "module_found": true}"#;
        let answer: Answer = serde_json::from_str(line).unwrap();
        assert_eq!(answer.status, ReferenceStatus::Unresolved);
        assert_eq!(answer.suggestions, vec!["sklearn.metrics.r2_score"]);
    }
}

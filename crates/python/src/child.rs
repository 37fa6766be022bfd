//! The forked child: runs a document's snippets in order (each in a fresh namespace, or its
//! session's), and reports every verdict to its worker the moment it is known.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, RawFd};
use std::time::Instant;

use pyo3::prelude::*;
use snipcheck_record::{Category, ExampleCounts, Outcome, SnippetError};

use crate::capture::CaptureFiles;
use crate::protocol::{ChildMessage, Job};

/// Everything the child needs, prepared by the worker before the fork.
pub struct ChildSetup<'a> {
    pub job: &'a Job,
    pub first: usize,
    pub runner: &'a Py<PyModule>,
    pub captures: &'a CaptureFiles,
    /// Write end of the pipe to the worker.
    pub report: File,
    /// Descriptors of the worker that the snippet must not touch (its protocol channel).
    pub close: &'a [RawFd],
    pub workdir: &'a std::path::Path,
}

/// Runs in the child right after the fork; never returns.
pub fn run(py: Python<'_>, mut setup: ChildSetup<'_>) -> ! {
    // SAFETY: plain descriptor and process-group calls in a single-threaded child.
    unsafe {
        // Its own process group, so a timeout kills whatever the snippet spawned as well.
        libc::setpgid(0, 0);
        for &fd in setup.close {
            libc::close(fd);
        }
        let devnull = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY);
        if devnull >= 0 {
            libc::dup2(devnull, 0);
            libc::close(devnull);
        }
        libc::dup2(setup.captures.stdout.as_raw_fd(), 1);
        libc::dup2(setup.captures.stderr.as_raw_fd(), 2);
        // Rust's runtime catches SIGSEGV and SIGBUS to detect stack overflows, and returns
        // from a signal that was sent rather than caused: a snippet's crash must be a crash.
        libc::signal(libc::SIGSEGV, libc::SIG_DFL);
        libc::signal(libc::SIGBUS, libc::SIG_DFL);
    }
    let _ = std::env::set_current_dir(setup.workdir);

    for index in setup.first..setup.job.snippets.len() {
        let snippet = &setup.job.snippets[index];
        send(&mut setup.report, &ChildMessage::Started { index });
        setup.captures.reset();
        let started = Instant::now();
        let verdict = serde_json::to_string(snippet)
            .map_err(|err| pyo3::exceptions::PyValueError::new_err(err.to_string()))
            .and_then(|json| setup.runner.bind(py).call_method1("run_snippet", (json,)))
            .and_then(|v| v.extract::<String>());
        let _ = setup.runner.bind(py).call_method0("restore_stdio");
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        let mut outcome = match verdict {
            Ok(json) => parse_verdict(&json, duration_ms),
            Err(err) => internal_error(err.to_string(), duration_ms),
        };
        (outcome.stdout, outcome.stderr) = setup.captures.read();
        send(
            &mut setup.report,
            &ChildMessage::Finished { index, outcome },
        );
    }
    // SAFETY: leave without running Python's or Rust's exit handlers: they belong to the worker.
    unsafe { libc::_exit(0) }
}

/// What `runner.run` returns, as JSON.
#[derive(serde::Deserialize)]
struct RunnerVerdict {
    category: Category,
    error: Option<SnippetError>,
    #[serde(default)]
    suggestions: Vec<String>,
    #[serde(default)]
    examples: Option<ExampleCounts>,
}

fn parse_verdict(json: &str, duration_ms: f64) -> Outcome {
    match serde_json::from_str::<RunnerVerdict>(json) {
        Ok(verdict) => Outcome {
            status: verdict.category.status(),
            category: verdict.category,
            error: verdict.error,
            suggestions: verdict.suggestions,
            examples: verdict.examples,
            ..Outcome::clean(Category::Passed, duration_ms)
        },
        Err(err) => internal_error(
            format!("unreadable verdict from the runner: {err}"),
            duration_ms,
        ),
    }
}

/// The runner itself failed (it should not): say so rather than inventing a verdict.
fn internal_error(message: String, duration_ms: f64) -> Outcome {
    Outcome::failed(
        Category::Exception,
        SnippetError {
            kind: "snipcheck.InternalError".into(),
            message,
            line: None,
            traceback: None,
        },
        duration_ms,
    )
}

fn send(report: &mut File, message: &ChildMessage) {
    let mut line = serde_json::to_vec(message).unwrap_or_default();
    line.push(b'\n');
    if report.write_all(&line).is_err() {
        // The worker is gone: nobody is left to report to.
        // SAFETY: immediate exit of the child process.
        unsafe { libc::_exit(3) }
    }
}

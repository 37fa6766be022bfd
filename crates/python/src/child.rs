//! The forked child: runs a range of a document's snippets in order (each in a fresh
//! namespace, or its session's), and reports every verdict to its supervisor the moment it
//! is known.

use std::fs::File;
use std::io::Write;
use std::os::fd::RawFd;
use std::path::Path;
use std::time::Instant;

use pyo3::prelude::*;
use snipcheck_record::{Category, ExampleCounts, Outcome, SnippetError};

use crate::protocol::{ChildMessage, Job};
use crate::sandbox::{self, SandboxOptions};

/// Everything the child needs, prepared by the supervisor before the fork.
pub struct ChildSetup<'a> {
    pub job: &'a Job,
    /// Snippets `first..last` run in this child.
    pub first: usize,
    pub last: usize,
    pub runner: &'a Py<PyModule>,
    /// Write end of the report pipe.
    pub report: File,
    /// Write ends of the output pipes, to become descriptors 1 and 2.
    pub stdout: RawFd,
    pub stderr: RawFd,
    /// Written to both streams after each snippet, so the supervisor can cut them.
    pub separator: &'a [u8],
    /// Descriptors the snippet must not touch (the worker's protocol, the read ends).
    pub close: &'a [RawFd],
    pub workdir: &'a Path,
    pub sandbox: &'a SandboxOptions,
    pub landlock: bool,
}

/// Runs in the child right after the fork; never returns.
pub fn run(py: Python<'_>, mut setup: ChildSetup<'_>) -> ! {
    // SAFETY: plain descriptor, signal and process-group calls in a single-threaded child.
    unsafe {
        // Its own process group, so a timeout kills whatever the snippet spawned as well.
        libc::setpgid(0, 0);
        // Orphaned descendants of the snippet become this child's, so they can be found.
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1);
        for &fd in setup.close {
            libc::close(fd);
        }
        let devnull = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY);
        if devnull >= 0 {
            libc::dup2(devnull, 0);
            libc::close(devnull);
        }
        libc::dup2(setup.stdout, 1);
        libc::dup2(setup.stderr, 2);
        // Rust's runtime catches SIGSEGV and SIGBUS to detect stack overflows, and returns
        // from a signal that was sent rather than caused: a snippet's crash must be a crash.
        // Rust also ignores SIGPIPE; Python expects the same, so that one stays.
        for signal in [libc::SIGSEGV, libc::SIGBUS, libc::SIGINT, libc::SIGTERM] {
            libc::signal(signal, libc::SIG_DFL);
        }
    }
    sandbox::limit_child(setup.sandbox);
    let _ = std::env::set_current_dir(setup.workdir);
    if setup.landlock && setup.sandbox.restrict_writes {
        sandbox::restrict_writes(setup.workdir);
    }

    // The fixtures' code, compiled by the runner when a snippet first needs it.
    if !setup.job.fixtures.is_empty() {
        let defined = serde_json::to_string(&setup.job.fixtures)
            .map_err(|err| pyo3::exceptions::PyValueError::new_err(err.to_string()))
            .and_then(|json| {
                setup
                    .runner
                    .bind(py)
                    .call_method1("define_fixtures", (json,))
            });
        if let Err(err) = defined {
            eprintln!("snipcheck child: cannot define the fixtures: {err}");
        }
    }

    for index in setup.first..setup.last {
        let snippet = &setup.job.snippets[index];
        // A previous snippet may have closed or redirected the standard descriptors.
        // SAFETY: dup2 of descriptors this child owns.
        unsafe {
            libc::dup2(setup.stdout, 1);
            libc::dup2(setup.stderr, 2);
        }
        send(&mut setup.report, &ChildMessage::Started { index });
        let started = Instant::now();
        let verdict = serde_json::to_string(snippet)
            .map_err(|err| pyo3::exceptions::PyValueError::new_err(err.to_string()))
            .and_then(|json| setup.runner.bind(py).call_method1("run_snippet", (json,)))
            .and_then(|v| v.extract::<String>());
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        let (mut outcome, leftover_threads) = match verdict {
            Ok(json) => parse_verdict(&json, duration_ms),
            Err(err) => (internal_error(err.to_string(), duration_ms), 0),
        };
        end_output(&setup);
        let leftover_processes = stop_leftover_processes();
        if leftover_processes > 0 {
            outcome.notes.push(format!(
                "left {leftover_processes} process{} running; stopped when the snippet ended",
                if leftover_processes == 1 { "" } else { "es" }
            ));
        }
        if leftover_threads > 0 {
            outcome.notes.push(format!(
                "left {leftover_threads} thread{} running; the rest of the document runs in a new process",
                if leftover_threads == 1 { "" } else { "s" }
            ));
        }
        send(
            &mut setup.report,
            &ChildMessage::Finished {
                index,
                outcome: Box::new(outcome),
            },
        );
        if leftover_threads > 0 {
            break;
        }
    }
    // SAFETY: leave without running Python's or Rust's exit handlers: they belong to the worker.
    unsafe { libc::_exit(0) }
}

/// Marks the end of this snippet's output on both streams (restored first: the snippet
/// may have closed them).
fn end_output(setup: &ChildSetup<'_>) {
    for (target, source) in [(1, setup.stdout), (2, setup.stderr)] {
        // SAFETY: dup2 and write on descriptors this child owns, from a valid buffer.
        unsafe {
            libc::dup2(source, target);
            let mut written = 0;
            while written < setup.separator.len() {
                let n = libc::write(
                    target,
                    setup.separator[written..].as_ptr().cast(),
                    setup.separator.len() - written,
                );
                if n <= 0 {
                    break;
                }
                written += n as usize;
            }
        }
    }
}

/// Kills the processes a snippet started that are still in this child's process group;
/// returns how many there were.
fn stop_leftover_processes() -> usize {
    // Cheap test first: as a subreaper, this child inherits every orphaned descendant, so
    // "no children at all" means nothing was left behind and /proc need not be read.
    // SAFETY: a non-blocking wait; getpid has no preconditions.
    let me = unsafe {
        if libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) < 0 {
            return 0;
        }
        libc::getpid()
    };
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut stopped = 0;
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Fields after the command (which may hold spaces): state, ppid, pgrp.
        let Some(after_command) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
            continue;
        };
        let fields: Vec<&str> = after_command.split_whitespace().collect();
        if fields.get(2).and_then(|g| g.parse::<i32>().ok()) == Some(me) && fields[0] != "Z" {
            // SAFETY: signalling a process of our own group.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            stopped += 1;
        }
    }
    // Reap them, so they do not linger as zombies of this child.
    // SAFETY: non-blocking waits for our own children.
    unsafe { while libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) > 0 {} }
    stopped
}

/// What `runner.run` returns, as JSON.
#[derive(serde::Deserialize)]
struct RunnerVerdict {
    category: Category,
    error: Option<SnippetError>,
    #[serde(default)]
    suggestions: Vec<String>,
    #[serde(default)]
    leftover_threads: usize,
    #[serde(default)]
    examples: Option<ExampleCounts>,
}

fn parse_verdict(json: &str, duration_ms: f64) -> (Outcome, usize) {
    match serde_json::from_str::<RunnerVerdict>(json) {
        Ok(verdict) => (
            Outcome {
                status: verdict.category.status(),
                category: verdict.category,
                error: verdict.error,
                suggestions: verdict.suggestions,
                examples: verdict.examples,
                ..Outcome::clean(Category::Passed, duration_ms)
            },
            verdict.leftover_threads,
        ),
        Err(err) => (
            internal_error(
                format!("unreadable verdict from the runner: {err}"),
                duration_ms,
            ),
            0,
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
        // The supervisor is gone: nobody is left to report to.
        // SAFETY: immediate exit of the child process.
        unsafe { libc::_exit(3) }
    }
}

//! The forked child: runs a range of a document's snippets in order (each in a fresh
//! namespace, or its session's), and reports every verdict to its supervisor the moment it
//! is known.

use std::fs::File;
use std::os::fd::RawFd;
use std::time::Instant;

use pyo3::prelude::*;
use snipcheck_record::{
    Category, ExampleCounts, Missing, Outcome, OutputMismatch, SnippetError, Verdict,
};

use crate::process;
use crate::protocol::{failure, ChildMessage, Job};
use crate::sandbox::{self, Folders, SandboxOptions};

/// Everything the child needs, prepared by the supervisor before the fork.
pub struct ChildSetup<'a> {
    pub job: &'a Job,
    /// Snippets `first..last` run in this child.
    pub first: usize,
    pub last: usize,
    pub runner: &'a Py<PyModule>,
    /// Write end of the report pipe.
    pub report: File,
    /// Under [`Job::confirmed`]: read a byte here after each verdict before going on.
    pub wait_to_go_on: Option<RawFd>,
    /// Write ends of the output pipes, to become descriptors 1 and 2.
    pub stdout: RawFd,
    pub stderr: RawFd,
    /// Written to both streams after each snippet, so the supervisor can cut them.
    pub separator: &'a [u8],
    /// Descriptors the snippet must not touch (the worker's protocol, the read ends).
    pub close: &'a [RawFd],
    pub folders: &'a Folders,
    pub sandbox: &'a SandboxOptions,
    pub landlock: bool,
}

/// Runs in the child right after the fork; never returns.
pub fn run(py: Python<'_>, mut setup: ChildSetup<'_>) -> ! {
    // SAFETY: right after the fork, in a single-threaded child.
    unsafe {
        process::after_fork(setup.close, Some(setup.stdout), Some(setup.stderr));
        // Orphaned descendants of the snippet become this child's, so they can be found.
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1);
    }
    sandbox::limit_child(setup.sandbox);
    let _ = std::env::set_current_dir(&setup.folders.work);
    let entered = setup
        .runner
        .bind(py)
        // As a `str`: a `PathBuf` becomes a `pathlib.Path`, whose import (with `urllib.parse`)
        // each child would pay.
        .call_method1("enter_folders", (setup.folders.temp.as_os_str(),));
    if let Err(err) = entered {
        eprintln!("snipcheck child: cannot set the temporary folder: {err}");
    }
    if setup.landlock {
        if let Err(why) = sandbox::restrict_writes(setup.folders) {
            eprintln!("snipcheck child: writes are not restricted: {why}");
        }
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
        let started = Instant::now();
        let verdict = serde_json::to_string(snippet)
            .map_err(|err| pyo3::exceptions::PyValueError::new_err(err.to_string()))
            .and_then(|json| setup.runner.bind(py).call_method1("run_snippet", (json,)))
            .and_then(|v| v.extract::<String>());
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        let (mut verdict, leftover_threads) = match verdict {
            Ok(json) => parse_verdict(&json, duration_ms),
            Err(err) => (internal_error(err.to_string(), duration_ms).into(), 0),
        };
        let outcome = &mut verdict.outcome;
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
            &ChildMessage {
                index,
                verdict: Box::new(verdict),
                then_stops: leftover_threads > 0,
            },
        );
        if leftover_threads > 0 {
            break;
        }
        if let Some(fd) = setup.wait_to_go_on {
            wait_for_confirmation(fd);
        }
    }
    // SAFETY: leave without running Python's or Rust's exit handlers: they belong to the worker.
    unsafe { libc::_exit(0) }
}

/// Blocks until the supervisor confirms the last verdict reached the main process; leaves
/// when the supervisor is gone (nobody would hear the next verdict).
fn wait_for_confirmation(fd: RawFd) {
    let mut byte = 0u8;
    loop {
        // SAFETY: reading one byte into a valid buffer from a descriptor this child owns.
        let n = unsafe { libc::read(fd, (&mut byte as *mut u8).cast(), 1) };
        if n == 1 {
            return;
        }
        if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        // SAFETY: immediate exit of the child process.
        unsafe { libc::_exit(3) }
    }
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

/// Kills the processes a snippet started and left running: those still in this child's
/// process group, and those that left it (`setsid`) but are still this child's (it is their
/// subreaper, so orphans come back to it). Returns how many there were.
fn stop_leftover_processes() -> usize {
    // Cheap test first: as a subreaper, this child inherits every orphaned descendant, so
    // "no children at all" means nothing was left behind and /proc need not be read.
    // SAFETY: a non-blocking wait.
    if unsafe { libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) } < 0 {
        return 0;
    }
    // Numbers as /proc shows them: in a PID namespace of its own, getpid() says 2.
    let Some(me) = std::fs::read_link("/proc/self")
        .ok()
        .and_then(|link| link.to_str()?.parse::<i32>().ok())
    else {
        return 0;
    };
    let mut stopped = std::collections::HashSet::new();
    // A killed process's children come back to this child: look again until none is left.
    for _ in 0..8 {
        let found = leftover_processes(me);
        if found.is_empty() {
            break;
        }
        for &pid in &found {
            if let Some(own) = pid_in_own_namespace(pid) {
                // SAFETY: signalling a descendant of this child.
                unsafe { libc::kill(own, libc::SIGKILL) };
            }
        }
        stopped.extend(found);
        // Every child was just killed: wait for all of them, so that none lingers as a
        // zombie still counted against the next snippet's process cap.
        // SAFETY: waits for our own children.
        unsafe { while libc::waitpid(-1, std::ptr::null_mut(), 0) > 0 {} }
    }
    stopped.len()
}

/// The number `kill` takes for a process /proc lists as `pid`: in a PID namespace the two
/// differ, and the innermost of the numbers `NSpid` lists is the one of the namespace this
/// child (the process's ancestor) lives in.
fn pid_in_own_namespace(pid: i32) -> Option<i32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    match status.lines().find_map(|line| line.strip_prefix("NSpid:")) {
        Some(numbers) => numbers.split_whitespace().last()?.parse().ok(),
        // Kernels before 4.1 have no namespaces to tell apart here.
        None => Some(pid),
    }
}

/// Live processes (not zombies) in the process group of `me` or whose parent is `me`, as
/// /proc numbers them.
fn leftover_processes(me: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| pid != me)
        .filter(|&pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            // Fields after the command (which may hold spaces): state, ppid, pgrp.
            let Some((_, after_command)) = stat.rsplit_once(')') else {
                return false;
            };
            let fields: Vec<&str> = after_command.split_whitespace().collect();
            let field = |i: usize| fields.get(i).and_then(|f| f.parse::<i32>().ok());
            fields.first() != Some(&"Z") && (field(1) == Some(me) || field(2) == Some(me))
        })
        .collect()
}

/// What `runner.run` returns, as JSON.
#[derive(serde::Deserialize)]
struct RunnerVerdict {
    category: Category,
    error: Option<SnippetError>,
    #[serde(default)]
    suggestions: Vec<String>,
    #[serde(default)]
    missing: Option<Missing>,
    #[serde(default)]
    leftover_threads: usize,
    #[serde(default)]
    examples: Option<ExampleCounts>,
    #[serde(default)]
    mismatches: Vec<OutputMismatch>,
}

fn parse_verdict(json: &str, duration_ms: f64) -> (Verdict, usize) {
    match serde_json::from_str::<RunnerVerdict>(json) {
        Ok(verdict) => (
            Verdict {
                outcome: Outcome {
                    status: verdict.category.status(),
                    category: verdict.category,
                    error: verdict.error,
                    suggestions: verdict.suggestions,
                    examples: verdict.examples,
                    mismatches: verdict.mismatches,
                    ..Outcome::clean(Category::Passed, duration_ms)
                },
                missing: verdict.missing,
            },
            verdict.leftover_threads,
        ),
        Err(err) => (
            internal_error(
                format!("unreadable verdict from the runner: {err}"),
                duration_ms,
            )
            .into(),
            0,
        ),
    }
}

/// The runner itself failed (it should not): say so rather than inventing a verdict.
fn internal_error(message: String, duration_ms: f64) -> Outcome {
    failure(
        Category::Exception,
        "snipcheck.InternalError",
        message,
        duration_ms,
    )
}

fn send(report: &mut File, message: &ChildMessage) {
    if process::send(report, message).is_err() {
        // The supervisor is gone: nobody is left to report to.
        // SAFETY: immediate exit of the child process.
        unsafe { libc::_exit(3) }
    }
}

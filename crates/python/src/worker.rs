//! The worker process (`snipcheck __worker`): starts CPython once, imports the warm-up
//! modules, then forks a child per job and supervises it.
//!
//! The supervisor is the only part that can be trusted while a snippet runs: it enforces
//! the time limit on the child's process group and turns a death by signal or an exit into
//! a verdict, then resumes the rest of the document in a new child.

use std::ffi::CString;
use std::fs::File;
use std::io::{BufRead, Write};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use pyo3::prelude::*;
use pyo3::types::PyModule;
use snipcheck_record::{Category, Outcome, PythonInfo, SnippetError};

use crate::capture::CaptureFiles;
use crate::child::{self, ChildSetup};
use crate::interpreter;
use crate::lines::{LineReader, ReadLine};
use crate::protocol::{ChildMessage, Job, WorkerMessage};
use crate::venv::PythonEnv;

/// After SIGTERM, how long a timed-out child gets before SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(2);

/// Entry point of `snipcheck __worker`; returns the process exit code.
pub fn main(env_root: &Path, warmup: &[String]) -> i32 {
    // Our stdout is the protocol channel. Keep it on a private descriptor and point
    // descriptor 1 at stderr, so nothing Python prints can corrupt the protocol.
    // SAFETY: descriptor juggling before any other thread exists.
    let protocol_fd = unsafe {
        let fd = libc::dup(1);
        libc::dup2(2, 1);
        fd
    };
    if protocol_fd < 0 {
        eprintln!("snipcheck worker: cannot duplicate stdout");
        return 1;
    }
    // SAFETY: `protocol_fd` was just created by dup and is owned here.
    let mut protocol = unsafe { File::from_raw_fd(protocol_fd) };
    match serve(env_root, warmup, &mut protocol) {
        Ok(()) => 0,
        Err(err) => {
            let _ = send(
                &mut protocol,
                &WorkerMessage::Fatal {
                    message: format!("{err:#}"),
                },
            );
            1
        }
    }
}

fn serve(env_root: &Path, warmup: &[String], protocol: &mut File) -> Result<()> {
    let env = PythonEnv {
        root: env_root.to_path_buf(),
    };
    interpreter::start(&env)?;
    let (runner, python) = Python::attach(|py| -> Result<_> {
        let runner = load_runner(py)?;
        for module in warmup {
            // A broken package must not stop the run: its snippets will say what is wrong.
            if let Err(err) = py.import(module.as_str()) {
                eprintln!("snipcheck: warm-up import of {module} failed: {err}");
            }
        }
        let info: String = runner.bind(py).call_method0("python_info")?.extract()?;
        Ok((runner, serde_json::from_str::<PythonInfo>(&info)?))
    })?;
    send(protocol, &WorkerMessage::Ready { python })?;

    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let line = line.context("reading a job")?;
        if line.trim().is_empty() {
            continue;
        }
        let job: Job = serde_json::from_str(&line).context("unreadable job")?;
        run_job(&job, &runner, protocol)?;
    }
    Ok(())
}

fn load_runner(py: Python<'_>) -> Result<Py<PyModule>> {
    let code = CString::new(include_str!("runner.py"))?;
    let module = PyModule::from_code(py, &code, c"<snipcheck runner>", c"_snipcheck_runner")
        .map_err(|err| anyhow!("cannot load the snippet runner: {err}"))?;
    // Output checks live beside it; it imports them by this name (after the runner, which
    // they import in turn).
    let code = CString::new(include_str!("doctest_runner.py"))?;
    PyModule::from_code(py, &code, c"<snipcheck doctest>", c"_snipcheck_doctest")
        .map_err(|err| anyhow!("cannot load the doctest runner: {err}"))?;
    Ok(module.unbind())
}

/// Runs a job's snippets in forked children until each has a verdict.
fn run_job(job: &Job, runner: &Py<PyModule>, protocol: &mut File) -> Result<()> {
    let captures = CaptureFiles::new().context("cannot create capture files")?;
    // Snippets write files where they stand: give them a folder of their own.
    let workdir = tempfile::Builder::new()
        .prefix("snipcheck-")
        .tempdir()
        .context("cannot create a working folder for the snippets")?;
    let mut next = job.start;
    while next < job.snippets.len() {
        let child = fork_child(job, next, runner, &captures, workdir.path(), protocol)?;
        next = supervise(job, child, &captures, protocol)?;
    }
    send(protocol, &WorkerMessage::Done { job: job.job })
}

struct Child {
    pid: libc::pid_t,
    reports: LineReader,
    first: usize,
}

fn fork_child(
    job: &Job,
    first: usize,
    runner: &Py<PyModule>,
    captures: &CaptureFiles,
    workdir: &Path,
    protocol: &File,
) -> Result<Child> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: pipe2 fills `fds` on success.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error()).context("cannot create a pipe");
    }
    let (read_fd, write_fd) = (fds[0], fds[1]);
    Python::attach(|py| {
        // Whatever Python buffered must not be written twice, once by each process.
        let _ = runner.bind(py).call_method0("restore_stdio");
        // SAFETY: fork with the GIL held, bracketed by the hooks CPython's os.fork uses.
        let pid = unsafe {
            pyo3::ffi::PyOS_BeforeFork();
            let pid = libc::fork();
            if pid == 0 {
                pyo3::ffi::PyOS_AfterFork_Child();
            } else {
                pyo3::ffi::PyOS_AfterFork_Parent();
            }
            pid
        };
        if pid == 0 {
            // SAFETY: the child owns its copy of the write end.
            let report = unsafe { File::from_raw_fd(write_fd) };
            child::run(
                py,
                ChildSetup {
                    job,
                    first,
                    runner,
                    captures,
                    report,
                    close: &[read_fd, protocol.as_raw_fd()],
                    workdir,
                },
            );
        }
        // SAFETY: the parent's copy of the write end is not needed.
        unsafe { libc::close(write_fd) };
        if pid < 0 {
            // SAFETY: closing the read end we own.
            unsafe { libc::close(read_fd) };
            return Err(std::io::Error::last_os_error()).context("cannot fork");
        }
        // Set the group from this side too, so a kill right after the fork cannot miss it.
        // SAFETY: setpgid on our own child.
        unsafe { libc::setpgid(pid, pid) };
        Ok(Child {
            pid,
            reports: LineReader::new(read_fd),
            first,
        })
    })
}

/// Forwards a child's reports until it ends; returns the index of the first snippet that
/// still needs a verdict.
fn supervise(
    job: &Job,
    mut child: Child,
    captures: &CaptureFiles,
    protocol: &mut File,
) -> Result<usize> {
    let limit = Duration::from_secs_f64(job.timeout_s.max(0.001));
    let mut next = child.first;
    let mut running: Option<(usize, Instant)> = None;
    loop {
        let deadline = running.map(|(_, started)| started + limit);
        match child.reports.read_line(deadline) {
            ReadLine::Line(line) => match serde_json::from_str::<ChildMessage>(&line) {
                Ok(ChildMessage::Started { index }) => {
                    running = Some((index, Instant::now()));
                    send(
                        protocol,
                        &WorkerMessage::Started {
                            job: job.job,
                            index,
                        },
                    )?;
                }
                Ok(ChildMessage::Finished { index, outcome }) => {
                    running = None;
                    next = index + 1;
                    send(
                        protocol,
                        &WorkerMessage::Finished {
                            job: job.job,
                            index,
                            outcome,
                        },
                    )?;
                }
                Err(err) => eprintln!("snipcheck worker: unreadable report from a child: {err}"),
            },
            ReadLine::TimedOut => {
                let (index, started) = running.expect("a deadline implies a running snippet");
                kill_group(child.pid);
                let mut outcome = Outcome::failed(
                    Category::Timeout,
                    SnippetError {
                        kind: "Timeout".into(),
                        message: format!(
                            "still running after {}; stopped",
                            describe_seconds(job.timeout_s)
                        ),
                        line: None,
                        traceback: None,
                    },
                    started.elapsed().as_secs_f64() * 1000.0,
                );
                (outcome.stdout, outcome.stderr) = captures.read();
                send(
                    protocol,
                    &WorkerMessage::Finished {
                        job: job.job,
                        index,
                        outcome,
                    },
                )?;
                return Ok(index + 1);
            }
            ReadLine::Eof => {
                let status = reap(child.pid);
                // Reap whatever the snippet left running in its group.
                // SAFETY: signalling our own child's process group.
                unsafe { libc::killpg(child.pid, libc::SIGKILL) };
                let (index, started) = match running {
                    Some(running) => running,
                    // It died between two snippets: charge the next one, so the job progresses.
                    None if next < job.snippets.len() => (next, Instant::now()),
                    None => return Ok(next),
                };
                report_death(job, index, started, status, captures, protocol)?;
                return Ok(index + 1);
            }
        }
    }
}

fn report_death(
    job: &Job,
    index: usize,
    started: Instant,
    status: libc::c_int,
    captures: &CaptureFiles,
    protocol: &mut File,
) -> Result<()> {
    let (category, kind, message) = if libc::WIFSIGNALED(status) {
        let signal = libc::WTERMSIG(status);
        (
            Category::Crashed,
            "Signal",
            format!(
                "the process died by signal {} ({})",
                signal,
                signal_name(signal)
            ),
        )
    } else {
        let code = if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        };
        (
            Category::Exited,
            "ProcessExit",
            format!("the process exited with status {code} while the snippet ran (os._exit or a library calling exit)"),
        )
    };
    let mut outcome = Outcome::failed(
        category,
        SnippetError {
            kind: kind.into(),
            message,
            line: None,
            traceback: None,
        },
        started.elapsed().as_secs_f64() * 1000.0,
    );
    (outcome.stdout, outcome.stderr) = captures.read();
    send(
        protocol,
        &WorkerMessage::Finished {
            job: job.job,
            index,
            outcome,
        },
    )
}

/// SIGTERM to the whole group, a grace period, then SIGKILL; always reaps the child.
fn kill_group(pid: libc::pid_t) {
    // SAFETY: signals and waitpid on our own child and its process group.
    unsafe {
        libc::killpg(pid, libc::SIGTERM);
        let deadline = Instant::now() + KILL_GRACE;
        let mut status = 0;
        while Instant::now() < deadline {
            if libc::waitpid(pid, &mut status, libc::WNOHANG) == pid {
                libc::killpg(pid, libc::SIGKILL);
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        libc::killpg(pid, libc::SIGKILL);
        libc::waitpid(pid, &mut status, 0);
    }
}

fn reap(pid: libc::pid_t) -> libc::c_int {
    let mut status = 0;
    // SAFETY: waiting for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    status
}

fn signal_name(signal: libc::c_int) -> &'static str {
    match signal {
        libc::SIGSEGV => "SIGSEGV, a segmentation fault",
        libc::SIGABRT => "SIGABRT, an abort",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGILL => "SIGILL",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGXFSZ => "SIGXFSZ, file size limit",
        libc::SIGXCPU => "SIGXCPU, CPU time limit",
        _ => "another signal",
    }
}

fn describe_seconds(seconds: f64) -> String {
    if seconds.fract() == 0.0 {
        format!("{seconds:.0} s")
    } else {
        format!("{seconds} s")
    }
}

fn send(protocol: &mut File, message: &WorkerMessage) -> Result<()> {
    let mut line = serde_json::to_vec(message)?;
    line.push(b'\n');
    protocol
        .write_all(&line)
        .context("the main process stopped listening")
}

//! Running a job in forked children and keeping them in check.
//!
//! The supervisor is the only part that can be trusted while a snippet runs. It drains the
//! child's output, enforces the time limit on the child's process group (and cgroup), turns
//! a death by signal or an exit into a verdict, and resumes the rest of the document in a
//! new child. It learns of the child's end through a pidfd, so a grandchild that holds the
//! pipes open cannot hide it.

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use pyo3::prelude::*;
use pyo3::types::PyModule;
use snipcheck_record::{Category, Outcome, Verdict};

use crate::capture::{pipe, OutputPipe};
use crate::child::{self, ChildSetup};
use crate::lines::LineBuffer;
use crate::pid_namespace::NamespaceMaker;
use crate::process::{fork_python, reap, send, signal_name};
use crate::protocol::{failure, ChildMessage, Isolation, Job, WorkerMessage};
use crate::sandbox::{Folders, ProcessCap, SandboxOptions};

/// After SIGTERM, how long a timed-out child gets before SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(2);

/// A snippet running this long gets a notice, so a slow run does not look hung.
const SLOW_NOTICE: Duration = Duration::from_secs(10);

/// What every child of a job shares.
pub struct JobContext<'a> {
    pub job: &'a Job,
    pub runner: &'a Py<PyModule>,
    pub folders: &'a Folders,
    pub sandbox: &'a SandboxOptions,
    /// Restrict writes with Landlock (the probe said it works and the config wants it).
    pub landlock: bool,
    /// The worker's cgroup, which each child joins, where cgroups can be written.
    pub cap: Option<&'a ProcessCap>,
    /// What gives the job a PID namespace of its own, where one can be made.
    pub namespaces: Option<&'a NamespaceMaker>,
    /// The worker's protocol channel: the supervisor writes to it, children must not.
    pub protocol: &'a mut File,
}

/// Runs the job's snippets in as many children as it takes; each snippet gets a verdict.
pub fn run_job(ctx: &mut JobContext<'_>) -> Result<()> {
    // Kept until the job ends; dropping it kills what is left in the namespace.
    let _namespace = if let Some(maker) = ctx.namespaces {
        match maker.enter() {
            Ok(namespace) => Some(namespace),
            Err(why) => {
                eprintln!("snipcheck worker: this document runs without a PID namespace: {why}");
                None
            }
        }
    } else {
        None
    };
    let total = ctx.job.snippets.len();
    let mut next = ctx.job.start;
    while next < total {
        let child = start_child(ctx, next)?;
        let resume = supervise(ctx, child)?;
        next = if resume > next {
            resume
        } else {
            // The child ended before its first snippet finished and said nothing: charge
            // that snippet, so a broken start cannot loop forever.
            report(
                ctx,
                next,
                failure(
                    Category::Crashed,
                    "ChildLost",
                    "the process running the snippet ended before reporting".into(),
                    0.0,
                )
                .into(),
            )?;
            next + 1
        };
    }
    send(ctx.protocol, &WorkerMessage::Done { job: ctx.job.job })
}

struct Child<'a> {
    pid: libc::pid_t,
    pidfd: OwnedFd,
    reports: LineBuffer,
    stdout: OutputPipe,
    stderr: OutputPipe,
    /// The cgroup the child joined, emptied when it ends.
    cap: Option<&'a ProcessCap>,
    /// Under [`Job::confirmed`]: one byte here lets the child start its next snippet.
    go_on: Option<OwnedFd>,
    /// Snippets `first..last` run in this child, one after the other.
    first: usize,
    last: usize,
}

fn start_child<'a>(ctx: &mut JobContext<'a>, first: usize) -> Result<Child<'a>> {
    let (report_read, report_write) = pipe().context("cannot create a pipe")?;
    let separator = output_separator();
    let mut stdout = OutputPipe::new(&separator).context("cannot create a pipe")?;
    let mut stderr = OutputPipe::new(&separator).context("cannot create a pipe")?;
    let last = match ctx.job.isolate {
        Isolation::Document | Isolation::Library => ctx.job.snippets.len(),
        // A session's snippets share a namespace, so they share a child as well.
        Isolation::Snippet => match &ctx.job.snippets[first].session {
            Some(session) => {
                first
                    + ctx.job.snippets[first..]
                        .iter()
                        .take_while(|s| s.session.as_ref() == Some(session))
                        .count()
            }
            None => first + 1,
        },
    };
    let confirmation = if ctx.job.confirmed {
        Some(pipe().context("cannot create a pipe")?)
    } else {
        None
    };
    let mut close = vec![
        report_read.as_raw_fd(),
        stdout.read_fd(),
        stderr.read_fd(),
        ctx.protocol.as_raw_fd(),
    ];
    close.extend(confirmation.as_ref().map(|(_, write)| write.as_raw_fd()));
    if let Some(cap) = ctx.cap.filter(|cap| cap.holds_children()) {
        cap.leave_room_for_children();
    }
    let pid = Python::attach(|py| {
        // Whatever Python buffered must not be written twice, once by each process.
        let _ = ctx.runner.bind(py).call_method0("restore_stdio");
        let pid = fork_python(py);
        if pid == 0 {
            child::run(
                py,
                ChildSetup {
                    job: ctx.job,
                    first,
                    last,
                    runner: ctx.runner,
                    report: dup_file(report_write.as_raw_fd()),
                    wait_to_go_on: confirmation.as_ref().map(|(read, _)| read.as_raw_fd()),
                    stdout: stdout.write_fd().unwrap_or(-1),
                    stderr: stderr.write_fd().unwrap_or(-1),
                    separator: &separator,
                    close: &close,
                    folders: ctx.folders,
                    sandbox: ctx.sandbox,
                    landlock: ctx.landlock,
                },
            );
        }
        pid
    });
    if pid < 0 {
        return Err(std::io::Error::last_os_error()).context("cannot fork");
    }
    drop(report_write);
    let go_on = confirmation.map(|(_, write)| write);
    stdout.close_write();
    stderr.close_write();
    // Set the group from this side too, so a kill right after the fork cannot miss it.
    // SAFETY: setpgid on our own child.
    unsafe { libc::setpgid(pid, pid) };
    // Born in the cgroup where the worker holds it; else moved in now, having already run.
    let cap = ctx.cap.filter(|cap| cap.holds_children() || cap.add(pid));
    Ok(Child {
        pid,
        pidfd: pidfd_open(pid).context("cannot watch the child process")?,
        reports: LineBuffer::new(report_read),
        stdout,
        stderr,
        cap,
        go_on,
        first,
        last,
    })
}

/// Forwards a child's reports until it ends; returns the index of the first snippet that
/// still needs a verdict.
fn supervise(ctx: &mut JobContext<'_>, mut child: Child<'_>) -> Result<usize> {
    let job = ctx.job;
    let limit_s = |index: usize| crate::protocol::time_limit(&job.snippets[index], job.timeout_s);
    // The child starts its first snippet when it starts, and each next one when it has
    // reported the one before.
    let mut limit = Duration::from_secs_f64(limit_s(child.first).max(0.001));
    let mut next = 0;
    let mut running: Option<(usize, Instant)> = Some((child.first, Instant::now()));
    let mut noticed = false;
    loop {
        let now = Instant::now();
        let wake = running.map(|(_, started)| {
            let deadline = started + limit;
            if noticed || started + SLOW_NOTICE >= deadline {
                deadline
            } else {
                started + SLOW_NOTICE
            }
        });
        let exited = wait_for_activity(&child, wake.map(|w| w.saturating_duration_since(now)));
        child.stdout.drain();
        child.stderr.drain();
        child.reports.fill();
        while let Some(line) = child.reports.next_line() {
            match serde_json::from_str::<ChildMessage>(&line) {
                Ok(ChildMessage {
                    index,
                    mut verdict,
                    then_stops,
                }) => {
                    next = index + 1;
                    // Output is not cleared for the next one: in one batch it may already hold
                    // what that snippet printed. Stray output between two snippets goes to the
                    // next.
                    running = (next < child.last && !then_stops).then(|| (next, Instant::now()));
                    limit =
                        Duration::from_secs_f64(running.map_or(0.0, |_| limit_s(next)).max(0.001));
                    noticed = false;
                    // The child wrote the snippet's output and separator before this report,
                    // but after the drain above may have run: read again, or the output would
                    // be missing here and charged to the next snippet.
                    child.stdout.drain();
                    child.stderr.drain();
                    verdict.outcome.stdout = child.stdout.take_finished();
                    verdict.outcome.stderr = child.stderr.take_finished();
                    report(ctx, index, *verdict)?;
                    if let Some(go_on) = &child.go_on {
                        // The verdict is in the main process's pipe: the next may start. A
                        // child that is gone cannot read it; its end is seen by the pidfd.
                        // SAFETY: writing one byte from a valid buffer to a pipe we own.
                        unsafe { libc::write(go_on.as_raw_fd(), b"+".as_ptr().cast(), 1) };
                    }
                }
                Err(err) => eprintln!("snipcheck worker: unreadable report from a child: {err}"),
            }
        }
        if exited {
            let status = reap(child.pid);
            stop_everything(&child);
            if let Some((index, started)) = running {
                let mut outcome = death_outcome(status, started.elapsed());
                outcome.stdout = child.stdout.take_current();
                outcome.stderr = child.stderr.take_current();
                report(ctx, index, outcome.into())?;
                return Ok(index + 1);
            }
            return Ok(next);
        }
        let Some((index, started)) = running else {
            continue;
        };
        let elapsed = started.elapsed();
        if elapsed >= limit {
            terminate(&child);
            child.stdout.drain();
            child.stderr.drain();
            let mut outcome = failure(
                Category::Timeout,
                "Timeout",
                format!(
                    "still running after {}; stopped",
                    describe_seconds(limit_s(index))
                ),
                elapsed.as_secs_f64() * 1000.0,
            );
            outcome.stdout = child.stdout.take_current();
            outcome.stderr = child.stderr.take_current();
            report(ctx, index, outcome.into())?;
            return Ok(index + 1);
        }
        if !noticed && elapsed >= SLOW_NOTICE {
            noticed = true;
            send(
                ctx.protocol,
                &WorkerMessage::Slow {
                    job: ctx.job.job,
                    index,
                    seconds: elapsed.as_secs_f64(),
                },
            )?;
        }
    }
}

/// Waits until the child writes, exits, or `timeout` passes; true when it exited.
fn wait_for_activity(child: &Child<'_>, timeout: Option<Duration>) -> bool {
    let mut fds = vec![libc::pollfd {
        fd: child.pidfd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    }];
    for (fd, open) in [
        (child.reports.fd(), child.reports.is_open()),
        (child.stdout.read_fd(), child.stdout.is_open()),
        (child.stderr.read_fd(), child.stderr.is_open()),
    ] {
        if open {
            fds.push(libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            });
        }
    }
    let timeout_ms = timeout.map_or(-1, |t| t.as_millis().clamp(1, i32::MAX as u128) as i32);
    // SAFETY: polling descriptors we own, with the array's real length.
    let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
    ready > 0 && fds[0].revents != 0
}

/// SIGTERM to the whole group, a grace period, then SIGKILL; always reaps the child.
fn terminate(child: &Child<'_>) {
    stop_group(child.pid, child.pidfd.as_raw_fd(), child.cap);
}

/// [`terminate`] for a child forked outside a job (the resolver's).
pub(crate) fn kill_group(pid: libc::pid_t) {
    match pidfd_open(pid) {
        Ok(pidfd) => stop_group(pid, pidfd.as_raw_fd(), None),
        Err(_) => {
            kill_remaining(pid, None);
            reap(pid);
        }
    }
}

fn stop_group(pid: libc::pid_t, pidfd: RawFd, cap: Option<&ProcessCap>) {
    // SAFETY: signalling our own child's process group.
    unsafe { libc::killpg(pid, libc::SIGTERM) };
    let mut pollfd = libc::pollfd {
        fd: pidfd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: polling one descriptor we own.
    unsafe { libc::poll(&mut pollfd, 1, KILL_GRACE.as_millis() as i32) };
    kill_remaining(pid, cap);
    reap(pid);
}

/// Kills whatever is left of the child: its process group and, where there is one, its
/// cgroup (which also holds processes that left the group).
fn stop_everything(child: &Child<'_>) {
    kill_remaining(child.pid, child.cap);
}

fn kill_remaining(pid: libc::pid_t, cap: Option<&ProcessCap>) {
    // SAFETY: signalling our own child's process group.
    unsafe { libc::killpg(pid, libc::SIGKILL) };
    if let Some(cap) = cap {
        cap.kill_all();
    }
}

fn death_outcome(status: libc::c_int, elapsed: Duration) -> Outcome {
    let ms = elapsed.as_secs_f64() * 1000.0;
    if libc::WIFSIGNALED(status) {
        let signal = libc::WTERMSIG(status);
        return failure(
            Category::Crashed,
            "Signal",
            format!(
                "the process died by signal {signal} ({})",
                signal_name(signal)
            ),
            ms,
        );
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    failure(
        Category::Exited,
        "ProcessExit",
        format!(
            "the process exited with status {code} while the snippet ran (os._exit or a library calling exit)"
        ),
        ms,
    )
}

fn report(ctx: &mut JobContext<'_>, index: usize, verdict: Verdict) -> Result<()> {
    send(
        ctx.protocol,
        &WorkerMessage::Finished {
            job: ctx.job.job,
            index,
            verdict,
        },
    )
}

fn pidfd_open(pid: libc::pid_t) -> std::io::Result<OwnedFd> {
    // SAFETY: the syscall returns a new descriptor we then own.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor returned by the kernel.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Marks the end of a snippet's output in the child's streams; random, so that a snippet
/// printing arbitrary bytes is very unlikely to forge one.
fn output_separator() -> Vec<u8> {
    use std::io::Read;
    let mut random = [0u8; 12];
    let filled = File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut random))
        .is_ok();
    if !filled {
        // Without /dev/urandom, time and pid still make a separator no text contains.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
            ^ u128::from(std::process::id());
        random.copy_from_slice(&seed.to_le_bytes()[..12]);
    }
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!("\x1e\x1fsnipcheck-end-{hex}\x1f\x1e").into_bytes()
}

/// A descriptor for the child's own use (the pipe ends are closed on exec in both).
fn dup_file(fd: RawFd) -> File {
    // SAFETY: dup returns a new descriptor that the File then owns.
    unsafe { File::from_raw_fd(libc::dup(fd)) }
}

fn describe_seconds(seconds: f64) -> String {
    if seconds.fract() == 0.0 {
        format!("{seconds:.0} s")
    } else {
        format!("{seconds} s")
    }
}

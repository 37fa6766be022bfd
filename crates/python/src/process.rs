//! The process primitives every role uses: forking under CPython, the setup a forked child
//! needs first, reaping, naming signals, and sending one JSON line.

use std::io::Write;
use std::os::fd::RawFd;

use anyhow::{Context, Result};
use pyo3::Python;

/// Forks with the GIL held, bracketed by the hooks CPython's `os.fork` uses; returns what
/// `fork` returns.
pub(crate) fn fork_python(_py: Python<'_>) -> libc::pid_t {
    // SAFETY: the caller holds the GIL (the token proves it); the hooks keep the
    // interpreter's locks consistent in both processes.
    unsafe {
        pyo3::ffi::PyOS_BeforeFork();
        let pid = libc::fork();
        if pid == 0 {
            pyo3::ffi::PyOS_AfterFork_Child();
        } else {
            pyo3::ffi::PyOS_AfterFork_Parent();
        }
        pid
    }
}

/// The setup every forked child needs first: a process group of its own (so one kill
/// reaches whatever it starts), none of the worker's descriptors in `close`, stdin from
/// /dev/null, stdout and stderr to the given descriptors (`None`: /dev/null), and the
/// default action for the signals Rust's runtime and CPython took over: a crash must be a
/// crash, not Rust's stack-overflow handler, and an interrupt must end the process.
///
/// # Safety
/// Only in a freshly forked, single-threaded child.
pub(crate) unsafe fn after_fork(close: &[RawFd], stdout: Option<RawFd>, stderr: Option<RawFd>) {
    libc::setpgid(0, 0);
    for &fd in close {
        libc::close(fd);
    }
    let devnull = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
    if devnull >= 0 {
        libc::dup2(devnull, 0);
    }
    for (fd, target) in [(stdout, 1), (stderr, 2)] {
        match fd {
            Some(fd) => libc::dup2(fd, target),
            None => libc::dup2(devnull, target),
        };
    }
    if devnull >= 0 {
        libc::close(devnull);
    }
    // Rust also ignores SIGPIPE; Python expects the same, so that one stays.
    for signal in [libc::SIGSEGV, libc::SIGBUS, libc::SIGINT, libc::SIGTERM] {
        libc::signal(signal, libc::SIG_DFL);
    }
}

/// Sends `message` as one JSON line; an error means the reader is gone.
pub(crate) fn send(to: &mut impl Write, message: &impl serde::Serialize) -> Result<()> {
    let mut line = serde_json::to_vec(message)?;
    line.push(b'\n');
    to.write_all(&line)
        .and_then(|()| to.flush())
        .context("the other end stopped listening")
}

pub(crate) fn reap(pid: libc::pid_t) -> libc::c_int {
    let mut status = 0;
    // SAFETY: waiting for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    status
}

pub(crate) fn signal_name(signal: libc::c_int) -> &'static str {
    match signal {
        libc::SIGSEGV => "SIGSEGV, a segmentation fault",
        libc::SIGABRT => "SIGABRT, an abort",
        libc::SIGKILL => "SIGKILL, perhaps the out-of-memory killer",
        libc::SIGTERM => "SIGTERM",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGILL => "SIGILL",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGXFSZ => "SIGXFSZ, the file size limit",
        libc::SIGXCPU => "SIGXCPU, the CPU time limit",
        _ => "another signal",
    }
}

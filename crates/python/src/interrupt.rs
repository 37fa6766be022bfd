//! Ctrl-C: the main process stops cleanly instead of dying, and takes its workers down.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Set by the SIGINT handler; checked by the pool.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Makes Ctrl-C stop the run cleanly instead of killing the main process: the workers die
/// of the same SIGINT (their children follow by PR_SET_PDEATHSIG) and the pool winds down.
pub fn handle_interrupts() {
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(
            libc::SIGINT,
            on_interrupt as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
    }
}

pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Live worker processes, so an interrupt can stop them even when the SIGINT reached only
/// this process (sent by `kill`, not typed at a terminal).
pub(crate) static WORKER_PIDS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// Kills every worker process this process has running: on Ctrl-C, and when a long-lived
/// front end ends (the workers resolving names are not kept in a session).
pub fn kill_workers() {
    if let Ok(pids) = WORKER_PIDS.lock() {
        for &pid in pids.iter() {
            // SAFETY: signalling a worker process we started.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
    }
}

/// A run its caller stops before it ends (an editor's text changed again): the pool takes
/// no new job, and a job still running after a grace period loses its worker. Clones share
/// the flag.
#[derive(Debug, Clone, Default)]
pub struct Cancel(std::sync::Arc<AtomicBool>);

impl Cancel {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

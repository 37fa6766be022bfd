//! A PID namespace per document, so that a snippet sees and signals only its document's
//! processes: `kill(-1, ...)` as root, or `os.kill(os.getppid(), ...)`, cannot reach the
//! worker, the main process or anything else on the machine.
//!
//! The worker cannot move itself into a namespace; it can only choose the one its next
//! children are born in. So for each document it makes a new namespace, forks a small init
//! process into it (PID 1 reaps orphans; the kernel gives init signal protections a
//! snippet must not have), and then forks the document's children, which become PID 2 and
//! up. Killing the init when the document ends kills whatever is left in the namespace.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// The namespace of one document, alive while this value is.
pub struct PidNamespace {
    init: libc::pid_t,
    /// The worker's own namespace, to which its later children return.
    home: OwnedFd,
}

impl PidNamespace {
    /// Makes the worker's next children start in a new namespace; why not, when it cannot.
    pub fn enter() -> Result<PidNamespace, String> {
        let home = open_own_namespace()?;
        // SAFETY: unshare changes only where this process's future children are born.
        if unsafe { libc::unshare(libc::CLONE_NEWPID) } != 0 {
            return Err(format!(
                "no PID namespace could be made ({})",
                std::io::Error::last_os_error()
            ));
        }
        // SAFETY: the forked init only calls async-signal-safe functions (see `serve_as_init`).
        let init = unsafe { libc::fork() };
        if init == 0 {
            serve_as_init();
        }
        if init < 0 {
            let err = std::io::Error::last_os_error();
            leave(&home);
            return Err(format!("the namespace's init could not start ({err})"));
        }
        Ok(PidNamespace { init, home })
    }

    /// Whether PID namespaces can be made here, probed by making one.
    pub fn probe() -> Result<(), String> {
        PidNamespace::enter().map(drop)
    }
}

impl Drop for PidNamespace {
    fn drop(&mut self) {
        // SAFETY: killing and reaping our own child; its death empties the namespace.
        unsafe { libc::kill(self.init, libc::SIGKILL) };
        crate::process::reap(self.init);
        leave(&self.home);
    }
}

fn open_own_namespace() -> Result<OwnedFd, String> {
    // SAFETY: open returns a new descriptor that is then owned once.
    let fd = unsafe {
        libc::open(
            c"/proc/self/ns/pid".as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(format!(
            "/proc/self/ns/pid cannot be opened ({})",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: `fd` is a fresh descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Makes later children be born in the worker's own namespace again.
fn leave(home: &OwnedFd) {
    // SAFETY: setns on a namespace descriptor we own.
    unsafe { libc::setns(home.as_raw_fd(), libc::CLONE_NEWPID) };
}

extern "C" fn on_child(_: libc::c_int) {}

/// PID 1 of the namespace: reaps the orphans reparented to it until it is killed.
fn serve_as_init() -> ! {
    // SAFETY: a freshly forked single-threaded process; only async-signal-safe calls.
    unsafe {
        // If the worker dies, the namespace goes with it.
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        // It holds none of the worker's descriptors (the protocol pipe among them).
        libc::syscall(libc::SYS_close_range, 0u32, u32::MAX, 0u32);
        let mut blocked: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut blocked);
        libc::sigaddset(&mut blocked, libc::SIGCHLD);
        libc::sigprocmask(libc::SIG_BLOCK, &blocked, std::ptr::null_mut());
        libc::signal(
            libc::SIGCHLD,
            on_child as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
        let mut waiting: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut waiting);
        loop {
            while libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) > 0 {}
            libc::sigsuspend(&waiting);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Root (as in CI) can make namespaces; elsewhere the probe must say why not.
    #[test]
    fn a_child_of_a_new_namespace_is_pid_2_and_cannot_see_its_parent() {
        let namespace = match PidNamespace::enter() {
            Ok(namespace) => namespace,
            Err(why) => {
                assert!(!why.is_empty());
                return;
            }
        };
        // SAFETY: the child only calls getpid/getppid and exits.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let inside = unsafe { libc::getpid() == 2 && libc::getppid() == 0 };
            unsafe { libc::_exit(if inside { 0 } else { 1 }) };
        }
        assert!(pid > 0);
        let status = crate::process::reap(pid);
        drop(namespace);
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
        // Back home: the next child is born in this process's namespace.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let home = unsafe { libc::getppid() != 0 };
            unsafe { libc::_exit(if home { 0 } else { 1 }) };
        }
        let status = crate::process::reap(pid);
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    }
}

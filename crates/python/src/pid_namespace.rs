//! A PID namespace per document, so that a snippet sees and signals only its document's
//! processes: `kill(-1, ...)` as root, or `os.kill(os.getppid(), ...)`, cannot reach the
//! worker, the main process or anything else on the machine.
//!
//! A namespace needs an init process (PID 1 reaps orphans; the kernel gives init signal
//! protections a snippet must not have), and killing the init when the document ends kills
//! whatever is left in it. The document's children are then forked by the worker into the
//! namespace (PID 2 and up): the worker cannot move itself, only choose where its next
//! children are born.
//!
//! The inits are forked by a [`NamespaceMaker`], a small process the worker forks before
//! Python starts, not by the worker itself: a fork copies the page tables of the whole
//! Python heap, and each page the worker then writes is copied again while the init shares
//! it. Forking the init from the worker made that twice per document (2 000 documents: 12.5 s
//! of CPU with namespaces, 8 s without; through the maker: see the commit's figures).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// A request to the maker: make a namespace (`MAKE`, answered with its init's pid, or a
/// negative errno, and the namespace's descriptor), or end the one whose init is `pid`
/// (`END`, answered with 0). The namespace is passed as a descriptor, never looked up by
/// pid in /proc: the /proc mounted may number processes in another namespace than ours.
const MAKE: i32 = 1;
const END: i32 = 2;

/// The process that makes the worker's namespaces, and the worker's end of its channel.
pub struct NamespaceMaker {
    channel: OwnedFd,
    maker: libc::pid_t,
    /// The worker's own namespace, to which its later children return.
    home: OwnedFd,
}

impl NamespaceMaker {
    /// Forks the maker and makes one namespace with it, so that a machine where none can be
    /// made says why now, once, rather than at every document.
    ///
    /// Call it before the worker starts threads or Python: the maker is a copy of the
    /// process as it is then, and the smaller that is, the cheaper each init.
    pub fn start() -> Result<NamespaceMaker, String> {
        let home = open_own_namespace()?;
        let mut ends = [0 as RawFd; 2];
        // SAFETY: socketpair fills `ends` with two new descriptors.
        if unsafe {
            libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
                0,
                ends.as_mut_ptr(),
            )
        } != 0
        {
            return Err(format!(
                "no channel to a namespace maker ({})",
                std::io::Error::last_os_error()
            ));
        }
        // SAFETY: both descriptors are fresh and owned once here.
        let (ours, theirs) =
            unsafe { (OwnedFd::from_raw_fd(ends[0]), OwnedFd::from_raw_fd(ends[1])) };
        // SAFETY: the child runs only async-signal-safe calls (see `serve_as_maker`), so it
        // is sound even if another thread exists.
        let worker = unsafe { libc::getpid() };
        let maker = unsafe { libc::fork() };
        if maker == 0 {
            serve_as_maker(theirs.as_raw_fd(), home.as_raw_fd(), worker);
        }
        if maker < 0 {
            return Err(format!(
                "the namespace maker could not start ({})",
                std::io::Error::last_os_error()
            ));
        }
        drop(theirs);
        let maker = NamespaceMaker {
            channel: ours,
            maker,
            home,
        };
        maker.enter().map(drop)?;
        Ok(maker)
    }

    /// Makes the worker's next children start in a new namespace, for as long as the
    /// returned value lives; why not, when it cannot.
    pub fn enter(&self) -> Result<PidNamespace<'_>, String> {
        let (init, descriptor) = self.ask(MAKE, 0)?;
        let Some(descriptor) = descriptor.filter(|_| init > 0) else {
            return Err(format!(
                "no PID namespace could be made ({})",
                std::io::Error::from_raw_os_error(-init)
            ));
        };
        let namespace = PidNamespace { maker: self, init };
        // SAFETY: setns on a namespace descriptor owned here.
        if unsafe { libc::setns(descriptor.as_raw_fd(), libc::CLONE_NEWPID) } != 0 {
            return Err(format!(
                "the new PID namespace cannot be entered ({})",
                std::io::Error::last_os_error()
            ));
        }
        Ok(namespace)
    }

    /// Sends a request and waits for its answer, and the descriptor that came with it.
    fn ask(&self, request: i32, pid: libc::pid_t) -> Result<(i32, Option<OwnedFd>), String> {
        let message = [request, pid];
        let gone = || "the namespace maker has gone".to_string();
        // SAFETY: plain integers through a socket owned here; the received descriptor is
        // taken from a control buffer of the right size and owned once.
        unsafe {
            let sent = libc::send(
                self.channel.as_raw_fd(),
                message.as_ptr().cast(),
                std::mem::size_of_val(&message),
                libc::MSG_NOSIGNAL,
            );
            if sent != std::mem::size_of_val(&message) as isize {
                return Err(gone());
            }
            let mut answer = 0i32;
            let mut iov = one_int(&mut answer);
            let mut control = ControlBuffer::new();
            let room = control.0.len();
            let mut header = header(&mut iov, &mut control, room);
            loop {
                let got = libc::recvmsg(
                    self.channel.as_raw_fd(),
                    &mut header,
                    libc::MSG_CMSG_CLOEXEC,
                );
                if got < 0
                    && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
                {
                    continue;
                }
                if got != std::mem::size_of::<i32>() as isize {
                    return Err(gone());
                }
                let cmsg = libc::CMSG_FIRSTHDR(&header);
                let descriptor = (!cmsg.is_null()
                    && (*cmsg).cmsg_level == libc::SOL_SOCKET
                    && (*cmsg).cmsg_type == libc::SCM_RIGHTS)
                    .then(|| {
                        OwnedFd::from_raw_fd(std::ptr::read_unaligned(
                            libc::CMSG_DATA(cmsg).cast::<RawFd>(),
                        ))
                    });
                return Ok((answer, descriptor));
            }
        }
    }
}

/// The buffer a message of one `i32` is sent from or received into.
fn one_int(value: &mut i32) -> libc::iovec {
    libc::iovec {
        iov_base: (value as *mut i32).cast(),
        iov_len: std::mem::size_of::<i32>(),
    }
}

/// A message header over `iov` and the first `control_len` bytes of `control` (none: no
/// control message).
///
/// # Safety
/// `iov` and `control` must outlive every use of the header.
unsafe fn header(
    iov: &mut libc::iovec,
    control: &mut ControlBuffer,
    control_len: usize,
) -> libc::msghdr {
    let mut header: libc::msghdr = std::mem::zeroed();
    header.msg_iov = iov;
    header.msg_iovlen = 1;
    if control_len > 0 {
        header.msg_control = control.0.as_mut_ptr().cast();
        header.msg_controllen = control_len;
    }
    header
}

/// Room for one control message carrying one descriptor, aligned as `cmsghdr` needs.
#[repr(C, align(8))]
struct ControlBuffer([u8; 64]);

impl ControlBuffer {
    fn new() -> ControlBuffer {
        ControlBuffer([0; 64])
    }
}

impl Drop for NamespaceMaker {
    fn drop(&mut self) {
        // SAFETY: killing and reaping our own child; its inits die with it (PDEATHSIG).
        unsafe { libc::kill(self.maker, libc::SIGKILL) };
        crate::process::reap(self.maker);
    }
}

/// The namespace of one document, alive while this value is.
pub struct PidNamespace<'a> {
    maker: &'a NamespaceMaker,
    init: libc::pid_t,
}

impl Drop for PidNamespace<'_> {
    fn drop(&mut self) {
        leave(&self.maker.home);
        // Answered once the init is dead and reaped, so the namespace is empty.
        let _ = self.maker.ask(END, self.init);
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

/// Makes later children be born in the process's own namespace again.
fn leave(home: &OwnedFd) {
    // SAFETY: setns on a namespace descriptor we own.
    unsafe { libc::setns(home.as_raw_fd(), libc::CLONE_NEWPID) };
}

/// The maker: answers the worker's requests until the worker goes. Only async-signal-safe
/// calls (it may be forked from a process with threads).
fn serve_as_maker(channel: RawFd, home: RawFd, worker: libc::pid_t) -> ! {
    // SAFETY: a freshly forked process; plain system calls on descriptors it owns.
    unsafe {
        // If the worker dies, the maker goes, and its inits with it.
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        if libc::getppid() != worker {
            libc::_exit(0);
        }
        // It holds nothing of the worker's but its channel and the home namespace.
        let (low, high) = (channel.min(home), channel.max(home));
        if low > 0 {
            libc::syscall(libc::SYS_close_range, 0u32, (low - 1) as u32, 0u32);
        }
        if high > low + 1 {
            libc::syscall(
                libc::SYS_close_range,
                (low + 1) as u32,
                (high - 1) as u32,
                0u32,
            );
        }
        libc::syscall(libc::SYS_close_range, (high + 1) as u32, u32::MAX, 0u32);
        // A namespace made ahead, while the worker runs a document: the next request for
        // one is answered at once.
        let mut spare: Option<(i32, RawFd)> = None;
        loop {
            let mut message = [0i32; 2];
            let got = libc::recv(channel, message.as_mut_ptr().cast(), 8, 0);
            if got < 0 && *libc::__errno_location() == libc::EINTR {
                continue;
            }
            if got != 8 {
                // The worker has gone (or spoke nonsense): its inits go with the maker.
                libc::_exit(0);
            }
            match message {
                [MAKE, _] => {
                    let (init, descriptor) = spare.take().unwrap_or_else(|| make_namespace(home));
                    answer(channel, init, descriptor);
                    if descriptor >= 0 {
                        libc::close(descriptor);
                    }
                }
                [END, init] => {
                    libc::kill(init, libc::SIGKILL);
                    while libc::waitpid(init, std::ptr::null_mut(), 0) < 0
                        && *libc::__errno_location() == libc::EINTR
                    {}
                    answer(channel, 0, -1);
                }
                _ => answer(channel, -libc::EINVAL, -1),
            }
            if spare.is_none() {
                let (init, descriptor) = make_namespace(home);
                spare = (init > 0).then_some((init, descriptor));
            }
        }
    }
}

/// Sends `value`, and `descriptor` with it unless it is negative.
///
/// # Safety
/// In the maker only.
unsafe fn answer(channel: RawFd, value: i32, descriptor: RawFd) {
    let mut value = value;
    let mut iov = one_int(&mut value);
    let mut control = ControlBuffer::new();
    let space = if descriptor >= 0 {
        libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) as usize
    } else {
        0
    };
    let header = header(&mut iov, &mut control, space);
    if descriptor >= 0 {
        let cmsg = libc::CMSG_FIRSTHDR(&header);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as usize;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>(), descriptor);
    }
    libc::sendmsg(channel, &header, libc::MSG_NOSIGNAL);
}

/// A new namespace and its init: the init's pid and the namespace's descriptor, or a
/// negative errno and -1.
///
/// # Safety
/// In the maker only.
unsafe fn make_namespace(home: RawFd) -> (i32, RawFd) {
    let errno = || *libc::__errno_location();
    if libc::unshare(libc::CLONE_NEWPID) != 0 {
        return (-errno(), -1);
    }
    let init = libc::fork();
    if init == 0 {
        serve_as_init();
    }
    let made = if init < 0 {
        (-errno(), -1)
    } else {
        // The namespace the maker's children are born in, the new one (it can be opened
        // only once its init exists).
        let descriptor = libc::open(
            c"/proc/self/ns/pid_for_children".as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        );
        if descriptor < 0 {
            let failed = -errno();
            libc::kill(init, libc::SIGKILL);
            libc::waitpid(init, std::ptr::null_mut(), 0);
            (failed, -1)
        } else {
            (init, descriptor)
        }
    };
    // Back home, so that the next namespace is a sibling of this one, not nested in it.
    libc::setns(home, libc::CLONE_NEWPID);
    made
}

extern "C" fn on_child(_: libc::c_int) {}

/// PID 1 of the namespace: reaps the orphans reparented to it until it is killed.
fn serve_as_init() -> ! {
    // SAFETY: a freshly forked single-threaded process; only async-signal-safe calls.
    unsafe {
        // If the maker dies, the namespace goes with it.
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        // It holds none of the maker's descriptors.
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

    /// Root (as in CI) can make namespaces; elsewhere the maker must say why not.
    #[test]
    fn a_child_of_a_new_namespace_is_pid_2_and_cannot_see_its_parent() {
        let maker = match NamespaceMaker::start() {
            Ok(maker) => maker,
            Err(why) => {
                // SAFETY: geteuid only reads.
                assert!(
                    unsafe { libc::geteuid() } != 0,
                    "root can make namespaces: {why}"
                );
                assert!(!why.is_empty());
                return;
            }
        };
        for _ in 0..3 {
            let namespace = maker.enter().unwrap();
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
        }
        // Back home: the next child is born in this process's namespace.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let home = unsafe { libc::getppid() != 0 };
            unsafe { libc::_exit(if home { 0 } else { 1 }) };
        }
        let status = crate::process::reap(pid);
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    }

    #[test]
    fn ending_a_namespace_kills_what_is_left_in_it() {
        let Ok(maker) = NamespaceMaker::start() else {
            return;
        };
        let (read, write) = crate::capture::pipe().unwrap();
        let namespace = maker.enter().unwrap();
        // A process that would live for ever, left behind by its parent; it holds the
        // pipe's write end, so the read end sees the end of the pipe only once it is dead.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            unsafe {
                if libc::fork() == 0 {
                    libc::setsid();
                    loop {
                        libc::pause();
                    }
                }
                libc::_exit(0)
            };
        }
        drop(write);
        crate::process::reap(pid);
        let init = namespace.init;
        drop(namespace);
        let mut poll = libc::pollfd {
            fd: read.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        assert_eq!(
            unsafe { libc::poll(&mut poll, 1, 10_000) },
            1,
            "the orphan lives on"
        );
        let mut byte = 0u8;
        assert_eq!(
            unsafe { libc::read(read.as_raw_fd(), (&mut byte as *mut u8).cast(), 1) },
            0
        );
        // The init is gone too, reaped by the maker.
        assert_eq!(unsafe { libc::kill(init, 0) }, -1);
    }
}

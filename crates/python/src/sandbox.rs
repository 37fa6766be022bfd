//! What a snippet is allowed to do: resource limits, no network, a process cap, and (where
//! the kernel offers Landlock) no writes outside its working folder.
//!
//! Every protection is best effort and reports what it achieved, so the record can say which
//! were active instead of promising what the kernel did not give.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use snipcheck_record::SandboxReport;

/// Limits and switches, as configured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SandboxOptions {
    /// Address-space limit per child, bytes (0: none). TensorFlow alone maps about 5 GB.
    pub memory_bytes: u64,
    /// Largest file a snippet may write, bytes (0: none).
    pub file_size_bytes: u64,
    /// Processes and threads a document's child may have at once (0: none).
    pub max_processes: u64,
    /// Let snippets reach the network.
    pub network: bool,
    /// Refuse writes outside the working folder where Landlock is available.
    pub restrict_writes: bool,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            memory_bytes: 16 << 30,
            file_size_bytes: 256 << 20,
            max_processes: 512,
            network: false,
            restrict_writes: true,
        }
    }
}

/// Cuts the worker (and so every child it forks) off the network with a network namespace
/// of its own, holding only a loopback interface. Returns how the network was cut, or why not.
pub fn isolate_network() -> Result<&'static str, String> {
    // SAFETY: unshare affects only this single-threaded process.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(format!(
            "no network namespace ({})",
            std::io::Error::last_os_error()
        ));
    }
    bring_loopback_up();
    Ok("off (network namespace with loopback only)")
}

/// Servers a snippet starts on localhost should still work inside the namespace.
fn bring_loopback_up() {
    // SAFETY: an ioctl on a socket we create and close; `ifreq` is plain old data.
    unsafe {
        let socket = libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0);
        if socket < 0 {
            return;
        }
        let mut request: libc::ifreq = std::mem::zeroed();
        for (dst, src) in request.ifr_name.iter_mut().zip(b"lo\0") {
            *dst = *src as libc::c_char;
        }
        if libc::ioctl(socket, libc::SIOCGIFFLAGS, &mut request) == 0 {
            request.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
            libc::ioctl(socket, libc::SIOCSIFFLAGS, &request);
        }
        libc::close(socket);
    }
}

/// Applied in the child right after the fork, before any snippet code runs.
pub fn limit_child(options: &SandboxOptions) {
    // SAFETY: prctl and setrlimit on the calling process only.
    unsafe {
        // If the worker dies (Ctrl-C, a crash), the child must not run on unsupervised.
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        set_limit(libc::RLIMIT_CORE, 0);
        set_limit(libc::RLIMIT_AS, options.memory_bytes);
        set_limit(libc::RLIMIT_FSIZE, options.file_size_bytes);
        // No RLIMIT_NPROC: it counts every process of the user, not just the snippet's, and
        // root ignores it. The cgroup cap (`ProcessCap`) does this job where it can.
    }
}

unsafe fn set_limit(resource: libc::__rlimit_resource_t, value: u64) {
    if value == 0 && resource != libc::RLIMIT_CORE {
        return;
    }
    let limit = libc::rlimit {
        rlim_cur: value,
        rlim_max: value,
    };
    libc::setrlimit(resource, &limit);
}

/// Landlock: reading stays allowed everywhere, writing only below `workdir` and to the
/// null and terminal devices. Returns whether the kernel enforces it.
pub fn restrict_writes(workdir: &Path) -> bool {
    use landlock::{
        Access, AccessFs, PathBeneath, PathFd, Ruleset, RulesetAttr, RulesetCreatedAttr,
        RulesetStatus, ABI,
    };
    let abi = ABI::V2;
    let writes = AccessFs::from_write(abi);
    let status = Ruleset::default()
        .handle_access(writes)
        .and_then(|r| r.create())
        .and_then(|r| {
            let mut ruleset = r;
            for path in [workdir, Path::new("/dev/null"), Path::new("/dev/shm")] {
                if let Ok(fd) = PathFd::new(path) {
                    ruleset = ruleset.add_rule(PathBeneath::new(fd, AccessFs::from_all(abi)))?;
                }
            }
            ruleset.restrict_self()
        });
    matches!(
        status.map(|s| s.ruleset),
        Ok(RulesetStatus::FullyEnforced | RulesetStatus::PartiallyEnforced)
    )
}

/// Whether Landlock can be enforced here, probed once in a throwaway process so the
/// worker itself stays unrestricted.
pub fn landlock_available() -> bool {
    // SAFETY: the forked probe only calls `restrict_writes` and exits.
    unsafe {
        let pid = libc::fork();
        if pid == 0 {
            let enforced = restrict_writes(Path::new("/tmp"));
            libc::_exit(if enforced { 0 } else { 1 });
        }
        if pid < 0 {
            return false;
        }
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
    }
}

/// A cgroup (v1 `pids` or v2) that caps a child's processes and can kill all of them, even
/// those that left its process group. Only available to root or with a delegated cgroup.
pub struct ProcessCap {
    dir: PathBuf,
}

impl ProcessCap {
    /// Creates a cgroup for one child, or `None` where cgroups cannot be written.
    pub fn create(name: &str, max_processes: u64) -> Option<ProcessCap> {
        if max_processes == 0 {
            return None;
        }
        for root in ["/sys/fs/cgroup/pids", "/sys/fs/cgroup"] {
            let dir = Path::new(root).join(name);
            if !Path::new(root).join("cgroup.procs").exists() {
                continue;
            }
            if std::fs::create_dir(&dir).is_err() {
                continue;
            }
            if std::fs::write(dir.join("pids.max"), max_processes.to_string()).is_ok() {
                return Some(ProcessCap { dir });
            }
            let _ = std::fs::remove_dir(&dir);
        }
        None
    }

    /// Moves a process (and its future children) into the cgroup.
    pub fn add(&self, pid: libc::pid_t) -> bool {
        std::fs::write(self.dir.join("cgroup.procs"), pid.to_string()).is_ok()
    }

    /// Kills every process in the cgroup until none is left.
    pub fn kill_all(&self) {
        for _ in 0..100 {
            let procs = std::fs::read_to_string(self.dir.join("cgroup.procs")).unwrap_or_default();
            let pids: Vec<libc::pid_t> = procs.lines().filter_map(|l| l.parse().ok()).collect();
            if pids.is_empty() {
                return;
            }
            for pid in pids {
                // SAFETY: signalling processes of our own cgroup.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}

impl Drop for ProcessCap {
    fn drop(&mut self) {
        self.kill_all();
        // Removal fails while a killed process is still being reaped; retry briefly.
        for _ in 0..50 {
            if std::fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}

/// Cgroups of one snipcheck run share this prefix (the main process's pid, passed to the
/// workers), so the main process can sweep what a killed worker left behind.
pub fn cgroup_prefix() -> String {
    let run = std::env::var("SNIPCHECK_RUN_ID").unwrap_or_else(|_| std::process::id().to_string());
    format!("snipcheck-{run}-")
}

/// Kills the processes and removes the cgroups of run `run_id` that are still there.
pub fn sweep_cgroups(run_id: u32) {
    let prefix = format!("snipcheck-{run_id}-");
    for root in ["/sys/fs/cgroup/pids", "/sys/fs/cgroup"] {
        let Ok(entries) = std::fs::read_dir(root) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                drop(ProcessCap { dir: entry.path() });
            }
        }
    }
}

/// Whether the worker can cap processes with a cgroup, probed by creating one.
pub fn process_cap_available(options: &SandboxOptions) -> bool {
    ProcessCap::create(
        &format!("{}probe", cgroup_prefix()),
        options.max_processes.max(1),
    )
    .is_some()
}

/// What the worker could put in place, for the record.
pub fn report(
    options: &SandboxOptions,
    network: &str,
    landlock: bool,
    cgroup: bool,
) -> SandboxReport {
    let mb = |bytes: u64| (bytes > 0).then_some(bytes >> 20);
    SandboxReport {
        working_folder: "a new temporary folder per document".into(),
        environment: "scrubbed: only allow-listed variables are passed".into(),
        network: network.into(),
        filesystem: if !options.restrict_writes {
            "not restricted (disabled in the config)".into()
        } else if landlock {
            "writes outside the working folder refused (Landlock)".into()
        } else {
            "not restricted (Landlock is not available on this kernel)".into()
        },
        memory_limit_mb: mb(options.memory_bytes),
        file_size_limit_mb: mb(options.file_size_bytes),
        process_limit: (cgroup && options.max_processes > 0).then_some(options.max_processes),
        processes: if cgroup {
            "capped by a cgroup; all killed when the document ends".into()
        } else {
            "not capped (cgroups not writable); the process group is killed when the document ends"
                .into()
        },
    }
}

//! What a snippet is allowed to do: resource limits, no network, a process cap, and (where
//! the kernel offers Landlock) no writes outside its working folder.
//!
//! Every protection is best effort and reports what it achieved, so the record can say which
//! were active instead of promising what the kernel did not give.

use std::os::fd::AsRawFd;
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
    /// A PID namespace per document, where the kernel allows it.
    pub pid_namespace: bool,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            memory_bytes: 16 << 30,
            file_size_bytes: 256 << 20,
            max_processes: 512,
            network: false,
            restrict_writes: true,
            pid_namespace: true,
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

/// The folders a snippet may write to: its working folder and, beside it, the temporary
/// folder `TMPDIR` names (so `tempfile` works under Landlock).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Folders {
    pub work: PathBuf,
    pub temp: PathBuf,
}

impl Folders {
    /// Makes both under a new temporary folder, removed when the returned guard drops.
    pub fn create() -> std::io::Result<(tempfile::TempDir, Folders)> {
        Folders::create_in(&std::env::temp_dir())
    }

    /// As [`Folders::create`], under `parent`.
    pub fn create_in(parent: &Path) -> std::io::Result<(tempfile::TempDir, Folders)> {
        let root = tempfile::Builder::new()
            .prefix("snipcheck-")
            .tempdir_in(parent)?;
        let folders = Folders {
            work: root.path().join("work"),
            temp: root.path().join("tmp"),
        };
        std::fs::create_dir(&folders.work)?;
        std::fs::create_dir(&folders.temp)?;
        Ok((root, folders))
    }
}

/// Devices a snippet may still write to under Landlock.
const WRITABLE_DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/tty",
    // POSIX semaphores and shared memory (`multiprocessing`) live here.
    "/dev/shm",
];

/// Landlock: reading stays allowed everywhere, writing (creating, removing, renaming,
/// linking, truncating) only below `folders` and to [`WRITABLE_DEVICES`]. Best effort over
/// ABI versions; returns how far the kernel enforces it, or which step failed.
pub fn restrict_writes(folders: &Folders) -> Result<String, String> {
    use landlock::{
        path_beneath_rules, AccessFs, LandlockStatus, Ruleset, RulesetAttr, RulesetCreatedAttr,
        RulesetStatus, ABI,
    };
    // The newest ABI this crate knows; older kernels get what they support. Device ioctls
    // are left alone: a terminal's ioctls are not writes.
    let abi = ABI::V6;
    let writes = AccessFs::from_write(abi) & !AccessFs::IoctlDev;
    let ruleset = Ruleset::default()
        .handle_access(writes)
        .and_then(|r| r.create())
        .map_err(|err| format!("the Landlock ruleset could not be created ({err})"))?;
    let paths = [folders.work.as_path(), folders.temp.as_path()]
        .into_iter()
        .chain(WRITABLE_DEVICES.iter().map(Path::new));
    // Only paths that exist get a rule, each with the rights that fit a file or a folder.
    let ruleset = ruleset
        .add_rules(path_beneath_rules(paths, writes))
        .map_err(|err| format!("a Landlock rule could not be added ({err})"))?;
    let status = ruleset
        .restrict_self()
        .map_err(|err| format!("the Landlock restriction could not be applied ({err})"))?;
    let abi = match status.landlock {
        LandlockStatus::Available { effective_abi, .. } => effective_abi as i32,
        LandlockStatus::NotEnabled => {
            return Err("Landlock is built into this kernel but not enabled".into())
        }
        LandlockStatus::NotImplemented => {
            return Err("Landlock is not built into this kernel".into())
        }
    };
    match status.ruleset {
        RulesetStatus::FullyEnforced => Ok(format!("Landlock ABI {abi}")),
        RulesetStatus::PartiallyEnforced => Ok(format!(
            "Landlock ABI {abi}, partially: this kernel does not restrict every kind of write"
        )),
        RulesetStatus::NotEnforced => Err(format!("Landlock ABI {abi} enforced nothing")),
    }
}

/// Whether Landlock can be enforced here, probed once in a throwaway process so the
/// worker itself stays unrestricted: how it is enforced, or why it is not.
pub fn probe_landlock() -> Result<String, String> {
    probe_landlock_in(&std::env::temp_dir())
}

fn probe_landlock_in(parent: &Path) -> Result<String, String> {
    use std::io::Read;
    let (read, write) =
        crate::capture::pipe().map_err(|err| format!("no pipe for the Landlock probe ({err})"))?;
    // Made (and removed when `_root` drops) here, not in the probe: once restricted, the
    // probe could no longer remove them, and it leaves by `_exit` without running drops.
    let (_root, folders) = Folders::create_in(parent)
        .map_err(|err| format!("no folder for the Landlock probe ({err})"))?;
    // SAFETY: the forked probe restricts itself, writes one message and exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let answer = restrict_writes(&folders);
        let (code, text) = match &answer {
            Ok(how) => (0, how.as_str()),
            Err(why) => (1, why.as_str()),
        };
        // SAFETY: writing from a valid buffer, then leaving without the worker's exit handlers.
        unsafe {
            libc::write(write.as_raw_fd(), text.as_ptr().cast(), text.len());
            libc::_exit(code);
        }
    }
    drop(write);
    if pid < 0 {
        return Err(format!(
            "the Landlock probe could not start ({})",
            std::io::Error::last_os_error()
        ));
    }
    let mut text = String::new();
    let _ = std::fs::File::from(read).read_to_string(&mut text);
    let status = crate::process::reap(pid);
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        Ok(text)
    } else if text.is_empty() {
        Err(format!(
            "the Landlock probe ended without an answer (status {status})"
        ))
    } else {
        Err(text)
    }
}

/// Where a run's cgroups are made: the v1 `pids` hierarchy, else the v2 one.
const CGROUP_ROOTS: [&str; 2] = ["/sys/fs/cgroup/pids", "/sys/fs/cgroup"];

/// A cgroup (v1 `pids` or v2) that caps a child's processes and can kill all of them, even
/// those that left its process group. Only available to root or with a delegated cgroup.
///
/// A worker moves itself in once ([`ProcessCap::hold`]), so each child it forks is in the
/// cgroup from its first instruction: moving a process in takes the kernel an RCU grace
/// period (6 to 19 ms here), during which a child moved in after its fork had already run
/// its document's first snippets, and anything they forked stayed outside the cap.
pub struct ProcessCap {
    dir: PathBuf,
    max_processes: u64,
    /// The process that holds the cgroup as its own (the worker), spared by
    /// [`ProcessCap::kill_all`].
    holder: Option<libc::pid_t>,
}

impl ProcessCap {
    /// Creates a cgroup for one child, or `None` where cgroups cannot be written.
    pub fn create(name: &str, max_processes: u64) -> Option<ProcessCap> {
        if max_processes == 0 {
            return None;
        }
        for root in CGROUP_ROOTS {
            let dir = Path::new(root).join(name);
            if !Path::new(root).join("cgroup.procs").exists() {
                continue;
            }
            if let Err(err) = std::fs::create_dir(&dir) {
                if err.kind() != std::io::ErrorKind::AlreadyExists {
                    continue;
                }
                // Left by a child of this run whose pid has come round again (pids wrap at
                // a few tens of thousands): ours by its name, so clear it and start anew.
                drop(ProcessCap::found(dir.clone()));
                if std::fs::create_dir(&dir).is_err() {
                    continue;
                }
            }
            if std::fs::write(dir.join("pids.max"), max_processes.to_string()).is_ok() {
                return Some(ProcessCap {
                    dir,
                    max_processes,
                    holder: None,
                });
            }
            let _ = std::fs::remove_dir(&dir);
        }
        None
    }

    /// A cgroup found on disk, to be cleared.
    fn found(dir: PathBuf) -> ProcessCap {
        ProcessCap {
            dir,
            max_processes: 0,
            holder: None,
        }
    }

    /// Moves this process into the cgroup, so its children are born in it. False where it
    /// cannot: each child is then moved in with [`ProcessCap::add`].
    pub fn hold(&mut self) -> bool {
        let pid = std::process::id() as libc::pid_t;
        self.holder = Some(pid);
        if self.leave_room_for_children() && self.add(pid) {
            return true;
        }
        self.holder = None;
        false
    }

    /// Whether this process holds the cgroup, its children born in it.
    pub fn holds_children(&self) -> bool {
        self.holder == Some(std::process::id() as libc::pid_t)
    }

    /// Raises the cap by the holder's own threads (a library imported before forking may
    /// have started some), so a child may still start `max_processes` of its own.
    pub fn leave_room_for_children(&self) -> bool {
        let own = match self.holder {
            Some(_) => std::fs::read_dir("/proc/self/task").map_or(1, |tasks| tasks.count()),
            None => 0,
        };
        let max = self.max_processes + own as u64;
        std::fs::write(self.dir.join("pids.max"), max.to_string()).is_ok()
    }

    /// Moves a process (and its future children) into the cgroup.
    pub fn add(&self, pid: libc::pid_t) -> bool {
        std::fs::write(self.dir.join("cgroup.procs"), pid.to_string()).is_ok()
    }

    /// Kills every process in the cgroup but its holder, until none is left.
    pub fn kill_all(&self) {
        for _ in 0..100 {
            let procs = std::fs::read_to_string(self.dir.join("cgroup.procs")).unwrap_or_default();
            let pids: Vec<libc::pid_t> = procs
                .lines()
                .filter_map(|l| l.parse().ok())
                .filter(|&pid| Some(pid) != self.holder)
                .collect();
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
        if self.holds_children() {
            // A cgroup holding a process cannot be removed: back to where it was made.
            if let Some(root) = self.dir.parent() {
                let _ = std::fs::write(root.join("cgroup.procs"), std::process::id().to_string());
            }
        }
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

/// Kills the processes and removes the cgroups of run `run_id` that are still there, but
/// those of its workers still running: a session keeps them, and their cgroups, for the
/// next run.
pub fn sweep_cgroups(run_id: u32) {
    let prefix = format!("snipcheck-{run_id}-");
    for root in CGROUP_ROOTS {
        let Ok(entries) = std::fs::read_dir(root) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(rest) = name.strip_prefix(&prefix) else {
                continue;
            };
            let worker = rest
                .strip_prefix("worker-")
                .and_then(|pid| pid.parse().ok());
            if worker.is_some_and(|pid| is_running_child(pid, run_id)) {
                continue;
            }
            drop(ProcessCap::found(entry.path()));
        }
    }
}

/// Whether `pid` is a child of `parent` that has not ended (a zombie has).
fn is_running_child(pid: u32, parent: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // `pid (comm) state ppid ...`: the command may hold spaces and parentheses.
    let Some((_, after)) = stat.rsplit_once(") ") else {
        return false;
    };
    let mut fields = after.split(' ');
    let state = fields.next();
    let ppid = fields.next().and_then(|p| p.parse::<u32>().ok());
    state != Some("Z") && ppid == Some(parent)
}

/// The cgroup of one worker (see [`ProcessCap`]), where cgroups can be written and the
/// config caps processes.
pub fn worker_process_cap(options: &SandboxOptions) -> Option<ProcessCap> {
    let name = format!("{}worker-{}", cgroup_prefix(), std::process::id());
    ProcessCap::create(&name, options.max_processes)
}

/// Clears and removes the cgroup of worker `pid`, started by this process, which has ended
/// (killed, it could not).
pub(crate) fn remove_worker_cgroup(pid: u32) {
    // The run id this process gave the worker: its own pid.
    let name = format!("snipcheck-{}-worker-{pid}", std::process::id());
    for root in CGROUP_ROOTS {
        let dir = Path::new(root).join(&name);
        if dir.exists() {
            drop(ProcessCap::found(dir));
        }
    }
}

/// What the worker could put in place, for the record.
pub struct Achieved<'a> {
    /// How the network was cut, or why it was not.
    pub network: &'a str,
    /// How writes are restricted, or why they are not.
    pub landlock: &'a Result<String, String>,
    pub cgroup: bool,
    /// Whether each document gets a PID namespace of its own, or why not.
    pub pid_namespace: &'a Result<(), String>,
}

pub fn report(options: &SandboxOptions, achieved: &Achieved<'_>) -> SandboxReport {
    let mb = |bytes: u64| (bytes > 0).then_some(bytes >> 20);
    let namespace = match achieved.pid_namespace {
        _ if !options.pid_namespace => "no PID namespace (disabled in the config)".to_string(),
        Ok(()) => "a PID namespace of its own per document (a snippet sees and signals only its document's processes)".to_string(),
        Err(why) => format!("no PID namespace ({why})"),
    };
    let cap = if achieved.cgroup {
        "capped by a cgroup; all killed when the document ends"
    } else {
        "not capped (cgroups not writable); the process group is killed when the document ends"
    };
    SandboxReport {
        working_folder: "a new temporary folder per document, and TMPDIR beside it".into(),
        environment: "scrubbed: only allow-listed variables are passed".into(),
        network: achieved.network.into(),
        filesystem: match (options.restrict_writes, achieved.landlock) {
            (false, _) => "not restricted (disabled in the config)".into(),
            (true, Ok(how)) => {
                format!("writes outside the working and temporary folders refused ({how})")
            }
            (true, Err(why)) => format!("not restricted: {why}"),
        },
        memory_limit_mb: mb(options.memory_bytes),
        file_size_limit_mb: mb(options.file_size_bytes),
        process_limit: (achieved.cgroup && options.max_processes > 0)
            .then_some(options.max_processes),
        processes: format!("{namespace}; {cap}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every worker probes once: a folder left per probe filled the temporary folder.
    #[test]
    fn the_landlock_probe_leaves_no_folder_behind() {
        let parent = tempfile::tempdir().unwrap();
        let _ = probe_landlock_in(parent.path());
        let left: Vec<_> = std::fs::read_dir(parent.path()).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    }

    /// A worker's children join its one cgroup in turn: what each leaves is killed when
    /// it ends, and the next finds the cgroup empty.
    #[test]
    fn a_worker_cgroup_is_emptied_between_children() {
        let name = format!("{}reused-{}", cgroup_prefix(), std::process::id());
        let Some(cap) = ProcessCap::create(&name, 8) else {
            return; // cgroups are not writable here
        };
        let procs = || std::fs::read_to_string(cap.dir.join("cgroup.procs")).unwrap();
        for _ in 0..2 {
            // A child that leaves a process of its own group behind, then exits.
            let (read, write) = crate::capture::pipe().unwrap();
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                unsafe {
                    let mut byte = 0u8;
                    libc::read(read.as_raw_fd(), (&mut byte as *mut u8).cast(), 1);
                    if libc::fork() == 0 {
                        libc::setsid();
                        loop {
                            libc::pause();
                        }
                    }
                    libc::_exit(0)
                }
            }
            assert!(cap.add(pid));
            unsafe { libc::write(write.as_raw_fd(), b"+".as_ptr().cast(), 1) };
            crate::process::reap(pid);
            assert!(!procs().is_empty(), "the orphan is in the cgroup");
            cap.kill_all();
            assert_eq!(procs(), "");
        }
    }

    /// A worker holding its cgroup: the children it forks are in it from birth, and
    /// emptying it spares the worker. Run in a forked process, which moves itself.
    #[test]
    fn the_children_of_a_worker_holding_its_cgroup_are_born_in_it() {
        let name = format!("{}held-{}", cgroup_prefix(), std::process::id());
        let Some(mut cap) = ProcessCap::create(&name, 8) else {
            return; // cgroups are not writable here
        };
        let worker = unsafe { libc::fork() };
        if worker == 0 {
            let code = (|| {
                if !cap.hold() {
                    return 10;
                }
                let child = unsafe { libc::fork() };
                if child == 0 {
                    unsafe { libc::pause() };
                    unsafe { libc::_exit(0) };
                }
                // Read at once: a child moved in after its fork would not be in it yet.
                let cgroup = std::fs::read_to_string(format!("/proc/{child}/cgroup"));
                let born_in = cgroup.is_ok_and(|c| c.contains(&name));
                cap.kill_all();
                crate::process::reap(child);
                let procs = std::fs::read_to_string(cap.dir.join("cgroup.procs"));
                let only_holder = procs.is_ok_and(|p| p.trim() == std::process::id().to_string());
                match (born_in, only_holder) {
                    (true, true) => 0,
                    (false, _) => 11,
                    (true, false) => 12,
                }
            })();
            drop(cap);
            unsafe { libc::_exit(code) };
        }
        let status = crate::process::reap(worker);
        assert!(libc::WIFEXITED(status), "{status}");
        assert_eq!(
            libc::WEXITSTATUS(status),
            0,
            "10: no hold, 11: born outside, 12: holder killed"
        );
        // The worker left and removed it as it ended.
        assert!(!cap.dir.exists());
        std::mem::forget(cap);
    }

    #[test]
    fn the_sweep_spares_the_cgroups_of_running_children_only() {
        let parent = std::process::id();
        let child = unsafe { libc::fork() };
        if child == 0 {
            unsafe { libc::pause() };
            unsafe { libc::_exit(0) };
        }
        assert!(is_running_child(child as u32, parent));
        assert!(!is_running_child(child as u32, parent + 1));
        unsafe { libc::kill(child, libc::SIGKILL) };
        // A zombie has ended: its cgroup may go. Waited for, not reaped.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let waited = unsafe {
            libc::waitid(
                libc::P_PID,
                child as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        assert_eq!(waited, 0);
        assert!(!is_running_child(child as u32, parent));
        crate::process::reap(child);
        assert!(!is_running_child(child as u32, parent));
    }

    #[test]
    fn a_cgroup_left_under_the_same_name_is_replaced() {
        let name = format!("{}stale-{}", cgroup_prefix(), std::process::id());
        let Some(first) = ProcessCap::create(&name, 8) else {
            return; // cgroups are not writable here
        };
        // Left behind, as by a run that could not clean up.
        std::mem::forget(first);
        let second = ProcessCap::create(&name, 8);
        assert!(
            second.is_some(),
            "a stale cgroup of the same name blocked a new one"
        );
    }
}

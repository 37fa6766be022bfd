//! A worker process as the main process sees it: how it is started (its options, its
//! environment), the handle that sends it requests and reads its messages, and its end.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use anyhow::{bail, Context, Result};
use snipcheck_record::{PythonInfo, SandboxReport};

use crate::huge_pages;
use crate::interrupt::{interrupted, WORKER_PIDS};
use crate::protocol::{Isolation, WorkerArguments, WorkerMessage, LIBPYTHON_VARIABLE};
use crate::sandbox::SandboxOptions;
use crate::venv::PythonEnv;

/// Environment variables every worker gets (when the caller has them). Anything else, a CI
/// token or a cloud key among them, is passed only when the config allows it by name.
pub const DEFAULT_ENV_ALLOW: &[&str] = &[
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "LC_*", "TERM", "TZ", "TMPDIR",
];

/// The name of the worker binary, installed beside `snipcheck`.
const WORKER_BINARY: &str = "snipcheck-worker";

/// The worker binary: `SNIPCHECK_WORKER` when set, else `snipcheck-worker` beside the
/// running program (or, for a test binary in cargo's `deps/`, one folder up).
pub fn default_worker_program() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("SNIPCHECK_WORKER") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().context("cannot find the running program")?;
    let dir = exe.parent().unwrap_or(Path::new("."));
    let mut tried = Vec::new();
    for folder in [Some(dir), dir.parent().filter(|_| dir.ends_with("deps"))]
        .into_iter()
        .flatten()
    {
        let candidate = folder.join(WORKER_BINARY);
        if candidate.is_file() {
            return Ok(candidate);
        }
        tried.push(candidate.display().to_string());
    }
    // `cargo run` builds only the binary it runs.
    let hint = if dir.ends_with("debug") || dir.ends_with("release") {
        "build it with `cargo build`"
    } else {
        "reinstall snipcheck"
    };
    bail!(
        "cannot find {WORKER_BINARY}, which runs the snippets (looked for {}); {hint}, or set \
         SNIPCHECK_WORKER to its path",
        tried.join(" and ")
    )
}

/// Variables for CPython's start-up, in place of the isolated configuration the limited API
/// cannot make (see `interpreter`): a fixed hash seed (set order, and so output, alike on
/// every run), unbuffered stdio (what a snippet printed before it hung is already in the
/// capture file), no user site; and, as `python3` itself does, a C locale coerced to UTF-8.
fn startup_environment(allowed: &[(String, String)]) -> Vec<(String, String)> {
    let mut variables: Vec<(String, String)> = [
        ("PYTHONHASHSEED", "0"),
        ("PYTHONUNBUFFERED", "1"),
        ("PYTHONNOUSERSITE", "1"),
    ]
    .map(|(name, value)| (name.to_string(), value.to_string()))
    .into();
    let set = |name: &str| {
        allowed
            .iter()
            .find(|(n, value)| n == name && !value.is_empty())
            .map(|(_, value)| value.as_str())
    };
    // As PEP 538: LC_ALL, when set, is the user's last word.
    let locale = set("LC_CTYPE").or_else(|| set("LANG"));
    if set("LC_ALL").is_none() && matches!(locale, None | Some("C" | "POSIX")) {
        variables.push(("LC_CTYPE".into(), "C.UTF-8".into()));
    }
    // Huge pages for the worker's malloc heap, unless the user gives tunables of their own.
    let (tunables, ours) = huge_pages::MALLOC_TUNABLES;
    if set(tunables).is_none() {
        variables.push((tunables.into(), ours.into()));
    }
    variables
}

/// How the workers are started.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    /// The worker binary ([`default_worker_program`]).
    pub program: PathBuf,
    pub env: PythonEnv,
    /// Number of worker processes.
    pub workers: usize,
    /// Modules each worker imports before forking, so children start warm. `None`: each
    /// worker imports what the documents it is given import.
    pub warmup: Option<Vec<String>>,
    pub isolate: Isolation,
    pub sandbox: SandboxOptions,
    /// Extra variable names (or `PREFIX*` patterns) passed to snippets.
    pub env_allow: Vec<String>,
}

pub(crate) struct Worker {
    /// The modules it imported before forking.
    pub(crate) warm: Vec<String>,
    process: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// The line being read, kept between messages: one buffer, not one per verdict.
    line: String,
}

impl Worker {
    /// Starts a worker process and waits until its interpreter is ready.
    pub(crate) fn start(
        options: &PoolOptions,
        warm: Vec<String>,
    ) -> Result<(Worker, PythonInfo, SandboxReport)> {
        let libpython = options.env.libpython()?;
        let mut command = Command::new(&options.program);
        command
            .args(
                WorkerArguments {
                    env_root: options.env.root.clone(),
                    sandbox: Some(serde_json::to_string(&options.sandbox)?),
                    warmup: warm.clone(),
                }
                .to_args(),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        command.env_clear();
        let allowed = allowed_environment(&options.env_allow);
        command.envs(startup_environment(&allowed));
        command.envs(allowed);
        // The worker links no libpython: the loader brings in this environment's.
        command.env("LD_PRELOAD", &libpython);
        command.env(LIBPYTHON_VARIABLE, &libpython);
        command.env("SNIPCHECK_RUN_ID", std::process::id().to_string());
        // Workers run side by side on every core: one BLAS thread each keeps them from
        // fighting over the cores (the user's explicit setting wins).
        for var in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"] {
            command.env(var, std::env::var_os(var).unwrap_or_else(|| "1".into()));
        }
        let mut process = command
            .spawn()
            .with_context(|| format!("cannot start worker {}", options.program.display()))?;
        if let Ok(mut pids) = WORKER_PIDS.lock() {
            pids.push(process.id());
        }
        let stdin = process.stdin.take().context("worker has no stdin")?;
        let stdout = BufReader::new(process.stdout.take().context("worker has no stdout")?);
        let mut worker = Worker {
            warm,
            process,
            stdin,
            stdout,
            line: String::new(),
        };
        match worker.next_message()? {
            Some(WorkerMessage::Ready { python, sandbox }) => Ok((worker, python, sandbox)),
            Some(WorkerMessage::Fatal { message }) => bail!("{message}"),
            Some(other) => bail!("worker said {other:?} before it was ready"),
            None => {
                let status = worker.process.wait()?;
                bail!(
                    "the worker process for the environment {} ended before its Python was \
                     ready ({status}); it was started with {} preloaded (the loader's message, \
                     if any, is above)",
                    options.env.root.display(),
                    libpython.display()
                )
            }
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.process.id()
    }

    /// Whether the process has ended (a worker kept idle between runs may have been killed).
    pub(crate) fn has_ended(&mut self) -> bool {
        !matches!(self.process.try_wait(), Ok(None))
    }

    /// Sends one request line; an error means the worker is gone.
    pub(crate) fn send(&mut self, request: &impl serde::Serialize) -> Result<()> {
        crate::process::send(&mut self.stdin, request)
    }

    /// Waits for the worker to end and says how it did (`killed by signal 9 (SIGKILL...)`).
    pub(crate) fn exit_status(&mut self) -> String {
        use std::os::unix::process::ExitStatusExt;
        match self.process.wait() {
            Ok(status) => match status.signal() {
                Some(signal) => format!(
                    "killed by signal {signal}, {}",
                    crate::process::signal_name(signal)
                ),
                None => status.to_string(),
            },
            Err(err) => format!("its status is unknown: {err}"),
        }
    }

    /// The next protocol message, or `None` when the worker closed its stdout.
    pub(crate) fn next_message(&mut self) -> Result<Option<WorkerMessage>> {
        self.next::<WorkerMessage>()
    }

    /// The next line the worker wrote, parsed as `T`; `None` when it closed its stdout.
    pub(crate) fn next<T: serde::de::DeserializeOwned>(&mut self) -> Result<Option<T>> {
        let line = &mut self.line;
        loop {
            line.clear();
            match self.stdout.read_line(line) {
                Ok(0) => return Ok(None),
                Ok(_) => {}
                // Ctrl-C interrupts the read; the worker is going away with it.
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {
                    if interrupted() {
                        return Ok(None);
                    }
                    continue;
                }
                Err(err) => return Err(err.into()),
            }
            if line.trim().is_empty() {
                continue;
            }
            return serde_json::from_str(line)
                .map(Some)
                .with_context(|| format!("unreadable message from a worker: {}", line.trim()));
        }
    }
}

/// Ends `workers` side by side: every one is killed before any is waited for, so the
/// kernel frees their memory (tens of milliseconds for a worker that imported numpy) on
/// every core at once rather than one after the other.
pub(crate) fn end_together(mut workers: Vec<Worker>) {
    for worker in &mut workers {
        let _ = worker.process.kill();
    }
    drop(workers);
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Ok(mut pids) = WORKER_PIDS.lock() {
            pids.retain(|&pid| pid != self.process.id());
        }
        let _ = self.process.kill();
        let _ = self.process.wait();
        // It holds its cgroup until it ends, so the run's sweep spares it: killed, it could
        // not remove it.
        crate::sandbox::remove_worker_cgroup(self.process.id());
    }
}

/// The caller's variables that match the allow-list (exact names or `PREFIX*`).
fn allowed_environment(extra: &[String]) -> Vec<(String, String)> {
    let patterns: Vec<&str> = DEFAULT_ENV_ALLOW
        .iter()
        .copied()
        .chain(extra.iter().map(String::as_str))
        .collect();
    std::env::vars()
        .filter(|(name, _)| patterns.iter().any(|p| matches_pattern(p, name)))
        .collect()
}

fn matches_pattern(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values the start-up variables give `name` for a caller whose allowed variables
    /// are `pairs`.
    fn startup_values(pairs: &[(&str, &str)], name: &str) -> Vec<String> {
        let allowed: Vec<(String, String)> = pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        startup_environment(&allowed)
            .into_iter()
            .filter(|(variable, _)| variable == name)
            .map(|(_, value)| value)
            .collect()
    }

    #[test]
    fn a_c_locale_is_coerced_to_utf8_and_others_are_kept() {
        let with = |pairs: &[(&str, &str)]| startup_values(pairs, "LC_CTYPE").into_iter().next();
        assert_eq!(with(&[]), Some("C.UTF-8".into()));
        assert_eq!(with(&[("LANG", "C")]), Some("C.UTF-8".into()));
        assert_eq!(
            with(&[("LC_CTYPE", "POSIX"), ("LANG", "de_DE.UTF-8")]),
            Some("C.UTF-8".into())
        );
        assert_eq!(with(&[("LC_ALL", "C")]), None);
        assert_eq!(with(&[("LANG", "de_DE.ISO-8859-1")]), None);
        assert_eq!(with(&[("LC_ALL", ""), ("LANG", "en_US.UTF-8")]), None);
    }

    #[test]
    fn huge_pages_are_asked_of_glibc_unless_the_user_gives_tunables() {
        let tunables = |pairs: &[(&str, &str)]| startup_values(pairs, "GLIBC_TUNABLES");
        assert_eq!(tunables(&[]), ["glibc.malloc.hugetlb=1"]);
        assert!(tunables(&[("GLIBC_TUNABLES", "glibc.malloc.arena_max=2")]).is_empty());
    }

    #[test]
    fn allow_list_patterns() {
        assert!(matches_pattern("LC_*", "LC_ALL"));
        assert!(matches_pattern("PATH", "PATH"));
        assert!(!matches_pattern("PATH", "PATHEXT"));
        assert!(!matches_pattern("LC_*", "GITHUB_TOKEN"));
    }
}

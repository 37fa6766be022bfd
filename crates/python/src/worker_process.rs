//! A worker process as the main process sees it: how it is started (its options, its
//! environment), the handle that sends it requests and reads its messages, and its end.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use anyhow::{bail, Context, Result};
use snipcheck_record::{PythonInfo, SandboxReport};

use crate::interrupt::{interrupted, WORKER_PIDS};
use crate::protocol::{Isolation, WorkerArguments, WorkerMessage};
use crate::sandbox::SandboxOptions;
use crate::venv::PythonEnv;

/// Environment variables every worker gets (when the caller has them). Anything else, a CI
/// token or a cloud key among them, is passed only when the config allows it by name.
pub const DEFAULT_ENV_ALLOW: &[&str] = &[
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "LC_*", "TERM", "TZ", "TMPDIR",
];

/// How the workers are started.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    /// The binary that implements `__worker` (normally the running one).
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
}

impl Worker {
    /// Starts a worker process and waits until its interpreter is ready.
    pub(crate) fn start(
        options: &PoolOptions,
        warm: Vec<String>,
    ) -> Result<(Worker, PythonInfo, SandboxReport)> {
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
        command.envs(allowed_environment(&options.env_allow));
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
        };
        match worker.next_message()? {
            Some(WorkerMessage::Ready { python, sandbox }) => Ok((worker, python, sandbox)),
            Some(WorkerMessage::Fatal { message }) => bail!("{message}"),
            Some(other) => bail!("worker said {other:?} before it was ready"),
            None => {
                let status = worker.process.wait()?;
                bail!("the worker process ended before it was ready ({status})")
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
        let mut line = String::new();
        loop {
            line.clear();
            match self.stdout.read_line(&mut line) {
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
            return serde_json::from_str(&line)
                .map(Some)
                .with_context(|| format!("unreadable message from a worker: {}", line.trim()));
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Ok(mut pids) = WORKER_PIDS.lock() {
            pids.retain(|&pid| pid != self.process.id());
        }
        let _ = self.process.kill();
        let _ = self.process.wait();
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

    #[test]
    fn allow_list_patterns() {
        assert!(matches_pattern("LC_*", "LC_ALL"));
        assert!(matches_pattern("PATH", "PATH"));
        assert!(!matches_pattern("PATH", "PATHEXT"));
        assert!(!matches_pattern("LC_*", "GITHUB_TOKEN"));
    }
}

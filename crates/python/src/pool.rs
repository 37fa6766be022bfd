//! The main process's side: a pool of worker processes fed one document at a time.
//!
//! The main process never starts Python, so it may use threads: one thread per worker
//! feeds it jobs and forwards its verdicts as they arrive. A worker that dies is replaced
//! and its job resumes after the snippet that was running, which is charged the crash.
//! Ctrl-C stops the workers and keeps every verdict already received.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use snipcheck_record::{Category, Outcome, PythonInfo, SandboxReport, Snippet, SnippetError};

use crate::protocol::{Isolation, Job, WorkerMessage};
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

/// One document's snippets and their time limit.
#[derive(Debug, Clone)]
pub struct DocumentJob {
    pub snippets: Vec<Snippet>,
    pub timeout_s: f64,
    /// The setup fixtures its snippets name (see [`Snippet::fixtures`]).
    pub fixtures: Vec<crate::protocol::Fixture>,
}

/// What happens while the pool runs, for progress display.
pub enum Progress<'a> {
    /// A snippet's verdict arrived.
    Verdict {
        snippet: &'a Snippet,
        outcome: &'a Outcome,
    },
    /// A snippet has been running for a while.
    Slow {
        snippet: &'a Snippet,
        seconds: f64,
        limit: f64,
    },
}

/// Every job's outcomes, in snippet order, and the interpreter they ran under.
pub struct PoolResult {
    pub python: Option<PythonInfo>,
    pub sandbox: Option<SandboxReport>,
    pub outcomes: Vec<Vec<Outcome>>,
    /// True when Ctrl-C stopped the run: snippets without a verdict are marked skipped.
    pub interrupted: bool,
}

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

fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Live worker processes, so an interrupt can stop them even when the SIGINT reached only
/// this process (sent by `kill`, not typed at a terminal).
static WORKER_PIDS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn kill_workers() {
    if let Ok(pids) = WORKER_PIDS.lock() {
        for &pid in pids.iter() {
            // SAFETY: signalling a worker process we started.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
    }
}

/// Runs every job; `on_progress` sees each verdict the moment it arrives.
pub fn run(
    options: &PoolOptions,
    jobs: Vec<DocumentJob>,
    mut on_progress: impl FnMut(Progress<'_>),
) -> Result<PoolResult> {
    let mut outcomes: Vec<Vec<Option<Outcome>>> =
        jobs.iter().map(|j| vec![None; j.snippets.len()]).collect();
    let queue: Mutex<VecDeque<Job>> = Mutex::new(
        jobs.iter()
            .enumerate()
            .filter(|(_, j)| !j.snippets.is_empty())
            .map(|(i, j)| Job {
                job: i,
                snippets: j.snippets.clone(),
                start: 0,
                timeout_s: j.timeout_s,
                isolate: options.isolate,
                fixtures: j.fixtures.clone(),
            })
            .collect(),
    );
    let pending = queue.lock().map(|q| q.len()).unwrap_or(0);
    let workers = options.workers.clamp(1, pending.max(1));
    let (sender, receiver) = mpsc::channel::<Event>();
    let mut python = None;
    let mut sandbox = None;
    let mut failure = None;

    std::thread::scope(|scope| {
        for _ in 0..workers.min(pending) {
            let sender = sender.clone();
            let queue = &queue;
            scope.spawn(move || {
                if let Err(err) = feed_worker(options, queue, &sender) {
                    let _ = sender.send(Event::Failed(err));
                }
            });
        }
        drop(sender);
        loop {
            let event = match receiver.recv_timeout(Duration::from_millis(100)) {
                Ok(event) => event,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if interrupted() {
                        if let Ok(mut queue) = queue.lock() {
                            queue.clear();
                        }
                        kill_workers();
                    }
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            match event {
                Event::Ready(info, report) => {
                    python = Some(info);
                    sandbox = Some(report);
                }
                Event::Finished {
                    job,
                    index,
                    outcome,
                } => {
                    // Judged here, where every ending arrives (a dead worker's too).
                    let snippet = &jobs[job].snippets[index];
                    let outcome = match &snippet.xfail {
                        Some(expectation) => expectation.judge(outcome),
                        None => outcome,
                    };
                    on_progress(Progress::Verdict {
                        snippet: &jobs[job].snippets[index],
                        outcome: &outcome,
                    });
                    outcomes[job][index] = Some(outcome);
                }
                Event::Slow {
                    job,
                    index,
                    seconds,
                } => on_progress(Progress::Slow {
                    snippet: &jobs[job].snippets[index],
                    seconds,
                    limit: time_limit(&jobs[job].snippets[index], jobs[job].timeout_s),
                }),
                Event::Failed(err) => {
                    // No worker can run anything: stop the others rather than wait.
                    if let Ok(mut queue) = queue.lock() {
                        queue.clear();
                    }
                    failure.get_or_insert(err);
                }
            }
        }
    });
    // Whatever a killed worker could not clean up: its cgroups and their processes.
    crate::sandbox::sweep_cgroups(std::process::id());
    let interrupted = interrupted();
    if let Some(err) = failure.filter(|_| !interrupted) {
        return Err(err);
    }
    let outcomes = outcomes
        .into_iter()
        .map(|job| {
            job.into_iter()
                .map(|o| {
                    o.unwrap_or_else(|| {
                        if interrupted {
                            not_run("no verdict: the run was interrupted first")
                        } else {
                            lost("no verdict was reported")
                        }
                    })
                })
                .collect()
        })
        .collect();
    Ok(PoolResult {
        python,
        sandbox,
        outcomes,
        interrupted,
    })
}

enum Event {
    Ready(PythonInfo, SandboxReport),
    Finished {
        job: usize,
        index: usize,
        outcome: Outcome,
    },
    Slow {
        job: usize,
        index: usize,
        seconds: f64,
    },
    Failed(anyhow::Error),
}

/// Takes jobs from the queue until it is empty, replacing the worker if it dies.
fn feed_worker(
    options: &PoolOptions,
    queue: &Mutex<VecDeque<Job>>,
    events: &mpsc::Sender<Event>,
) -> Result<()> {
    let mut worker: Option<Worker> = None;
    loop {
        if interrupted() {
            return Ok(());
        }
        let warm = worker.as_ref().map(|w| &w.warm);
        let Some(mut job) = take_job(queue, warm)? else {
            return Ok(());
        };
        let current = match worker.as_mut() {
            Some(worker) => worker,
            None => {
                let warm = options
                    .warmup
                    .clone()
                    .unwrap_or_else(|| job_imports(&job).into_iter().collect());
                worker.insert(Worker::spawn(options, warm, events)?)
            }
        };
        match current.run(&job, events)? {
            JobEnd::Done => {}
            JobEnd::WorkerDied { running: index } => {
                worker = None;
                if interrupted() {
                    return Ok(());
                }
                // Charge the crash to the snippet that was running, resume after it.
                let _ = events.send(Event::Finished {
                    job: job.job,
                    index,
                    outcome: lost("the worker process running the snippet died"),
                });
                job.start = index + 1;
                if job.start < job.snippets.len() {
                    queue
                        .lock()
                        .map_err(|_| anyhow!("queue poisoned"))?
                        .push_front(job);
                }
            }
        }
    }
}

/// The next job for a worker: preferably one whose imports the worker has already done,
/// so heavy imports (TensorFlow takes seconds) are paid by as few processes as possible.
fn take_job(queue: &Mutex<VecDeque<Job>>, warm: Option<&Vec<String>>) -> Result<Option<Job>> {
    let mut queue = queue.lock().map_err(|_| anyhow!("queue poisoned"))?;
    let position = warm
        .and_then(|warm| {
            queue
                .iter()
                .position(|job| job_imports(job).iter().all(|m| warm.contains(m)))
        })
        .unwrap_or(0);
    Ok(queue.remove(position))
}

fn job_imports(job: &Job) -> std::collections::BTreeSet<String> {
    job.snippets
        .iter()
        .flat_map(|s| crate::imports::imported_modules(&s.code))
        .collect()
}

enum JobEnd {
    Done,
    /// The worker died while snippet `running` of the job was running.
    WorkerDied {
        running: usize,
    },
}

pub(crate) struct Worker {
    /// The modules it imported before forking.
    warm: Vec<String>,
    process: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Worker {
    fn spawn(
        options: &PoolOptions,
        warm: Vec<String>,
        events: &mpsc::Sender<Event>,
    ) -> Result<Worker> {
        let (worker, python, sandbox) = Worker::start(options, warm)?;
        let _ = events.send(Event::Ready(python, sandbox));
        Ok(worker)
    }

    /// Starts a worker process and waits until its interpreter is ready.
    pub(crate) fn start(
        options: &PoolOptions,
        warm: Vec<String>,
    ) -> Result<(Worker, PythonInfo, SandboxReport)> {
        let mut command = Command::new(&options.program);
        command
            .arg("__worker")
            .arg("--python-env")
            .arg(&options.env.root)
            .arg("--sandbox")
            .arg(serde_json::to_string(&options.sandbox)?)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if !warm.is_empty() {
            command.arg("--warmup").arg(warm.join(","));
        }
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

    /// Sends one request line; an error means the worker is gone.
    pub(crate) fn send(&mut self, request: &impl serde::Serialize) -> Result<()> {
        let mut line = serde_json::to_vec(request)?;
        line.push(b'\n');
        self.stdin.write_all(&line)?;
        self.stdin.flush()?;
        Ok(())
    }

    fn run(&mut self, job: &Job, events: &mpsc::Sender<Event>) -> Result<JobEnd> {
        if self.send(job).is_err() {
            return Ok(JobEnd::WorkerDied { running: job.start });
        }
        // Snippets of a job run in order: the one running is the one after the last verdict.
        let mut running = job.start;
        loop {
            match self.next_message()? {
                Some(WorkerMessage::Finished {
                    job,
                    index,
                    outcome,
                    ..
                }) => {
                    running = index + 1;
                    let _ = events.send(Event::Finished {
                        job,
                        index,
                        outcome,
                    });
                }
                Some(WorkerMessage::Slow {
                    job,
                    index,
                    seconds,
                }) => {
                    let _ = events.send(Event::Slow {
                        job,
                        index,
                        seconds,
                    });
                }
                Some(WorkerMessage::Done { .. }) => return Ok(JobEnd::Done),
                Some(WorkerMessage::Fatal { message }) => bail!("worker failed: {message}"),
                Some(WorkerMessage::Ready { .. }) => {}
                None => {
                    let _ = self.process.wait();
                    return Ok(JobEnd::WorkerDied { running });
                }
            }
        }
    }

    /// The next protocol message, or `None` when the worker closed its stdout.
    fn next_message(&mut self) -> Result<Option<WorkerMessage>> {
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

fn lost(message: &str) -> Outcome {
    Outcome::failed(
        Category::Crashed,
        SnippetError {
            kind: "Lost".into(),
            message: message.into(),
            line: None,
            traceback: None,
        },
        0.0,
    )
}

/// A snippet's time limit: its own (a `timeout` marker), else the job's.
pub(crate) fn time_limit(snippet: &Snippet, default_s: f64) -> f64 {
    snippet.timeout.unwrap_or(default_s)
}

fn not_run(message: &str) -> Outcome {
    Outcome {
        error: Some(SnippetError {
            kind: "Interrupted".into(),
            message: message.into(),
            line: None,
            traceback: None,
        }),
        ..Outcome::clean(Category::Skipped, 0.0)
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

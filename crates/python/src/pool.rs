//! The main process's side: a pool of worker processes fed one document at a time.
//!
//! The main process never starts Python, so it may use threads: one thread per worker
//! feeds it jobs and forwards its verdicts as they arrive. A worker that dies is replaced
//! and its job resumes after the snippet that was running, which is charged the crash.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::sync::Mutex;

use anyhow::{anyhow, bail, Context, Result};
use snipcheck_record::{Category, Outcome, PythonInfo, Snippet, SnippetError};

use crate::protocol::{Job, WorkerMessage};
use crate::venv::PythonEnv;

/// How the workers are started.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    /// The binary that implements `__worker` (normally the running one).
    pub program: PathBuf,
    pub env: PythonEnv,
    /// Number of worker processes.
    pub workers: usize,
    /// Modules each worker imports before forking, so children start warm.
    pub warmup: Vec<String>,
}

/// One document's snippets and their time limit.
#[derive(Debug, Clone)]
pub struct DocumentJob {
    pub snippets: Vec<Snippet>,
    pub timeout_s: f64,
}

/// A verdict as it arrives, for progress display.
pub struct Verdict<'a> {
    pub job: usize,
    pub index: usize,
    pub snippet: &'a Snippet,
    pub outcome: &'a Outcome,
}

/// Every job's outcomes, in snippet order, and the interpreter they ran under.
pub struct PoolResult {
    pub python: Option<PythonInfo>,
    pub outcomes: Vec<Vec<Outcome>>,
}

/// Runs every job; `on_verdict` sees each verdict the moment it arrives.
pub fn run(
    options: &PoolOptions,
    jobs: Vec<DocumentJob>,
    mut on_verdict: impl FnMut(Verdict<'_>),
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
            })
            .collect(),
    );
    let pending = queue.lock().map(|q| q.len()).unwrap_or(0);
    let workers = options.workers.clamp(1, pending.max(1));
    let (sender, receiver) = mpsc::channel::<Event>();
    let mut python = None;
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
        for event in receiver {
            match event {
                Event::Ready(info) => python = Some(info),
                Event::Finished {
                    job,
                    index,
                    outcome,
                } => {
                    on_verdict(Verdict {
                        job,
                        index,
                        snippet: &jobs[job].snippets[index],
                        outcome: &outcome,
                    });
                    outcomes[job][index] = Some(outcome);
                }
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
    if let Some(err) = failure {
        return Err(err);
    }
    let outcomes = outcomes
        .into_iter()
        .map(|job| {
            job.into_iter()
                .map(|o| o.unwrap_or_else(|| lost("no verdict was reported")))
                .collect()
        })
        .collect();
    Ok(PoolResult { python, outcomes })
}

enum Event {
    Ready(PythonInfo),
    Finished {
        job: usize,
        index: usize,
        outcome: Outcome,
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
        let Some(mut job) = queue
            .lock()
            .map_err(|_| anyhow!("queue poisoned"))?
            .pop_front()
        else {
            return Ok(());
        };
        let current = match worker.as_mut() {
            Some(worker) => worker,
            None => worker.insert(Worker::spawn(options, events)?),
        };
        match current.run(&job, events)? {
            JobEnd::Done => {}
            JobEnd::WorkerDied { running } => {
                worker = None;
                // Charge the crash to the snippet that was running, resume after it.
                let index = running.unwrap_or(job.start);
                let _ = events.send(Event::Finished {
                    job: job.job,
                    index,
                    outcome: Outcome::failed(
                        Category::Crashed,
                        SnippetError {
                            kind: "WorkerDied".into(),
                            message: "the worker process running the snippet died".into(),
                            line: None,
                            traceback: None,
                        },
                        0.0,
                    ),
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

enum JobEnd {
    Done,
    WorkerDied { running: Option<usize> },
}

pub(crate) struct Worker {
    process: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Worker {
    fn spawn(options: &PoolOptions, events: &mpsc::Sender<Event>) -> Result<Worker> {
        let (worker, python) = Worker::start(options)?;
        let _ = events.send(Event::Ready(python));
        Ok(worker)
    }

    /// Starts a worker process and waits until its interpreter is ready.
    pub(crate) fn start(options: &PoolOptions) -> Result<(Worker, PythonInfo)> {
        let mut command = Command::new(&options.program);
        command
            .arg("__worker")
            .arg("--python-env")
            .arg(&options.env.root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if !options.warmup.is_empty() {
            command.arg("--warmup").arg(options.warmup.join(","));
        }
        // Workers run side by side on every core: one BLAS thread each keeps them from
        // fighting over the cores (the user's explicit setting wins).
        for var in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"] {
            if std::env::var_os(var).is_none() {
                command.env(var, "1");
            }
        }
        let mut process = command
            .spawn()
            .with_context(|| format!("cannot start worker {}", options.program.display()))?;
        let stdin = process.stdin.take().context("worker has no stdin")?;
        let stdout = BufReader::new(process.stdout.take().context("worker has no stdout")?);
        let mut worker = Worker {
            process,
            stdin,
            stdout,
        };
        match worker.next_message()? {
            Some(WorkerMessage::Ready { python }) => Ok((worker, python)),
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
            return Ok(JobEnd::WorkerDied { running: None });
        }
        let mut running = None;
        loop {
            match self.next_message()? {
                Some(WorkerMessage::Started { index, .. }) => running = Some(index),
                Some(WorkerMessage::Finished {
                    job,
                    index,
                    outcome,
                    ..
                }) => {
                    running = None;
                    let _ = events.send(Event::Finished {
                        job,
                        index,
                        outcome,
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
            if self.stdout.read_line(&mut line)? == 0 {
                return Ok(None);
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
        // Closing stdin ends the worker's job loop; wait so no zombie is left behind.
        let _ = self.process.kill();
        let _ = self.process.wait();
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

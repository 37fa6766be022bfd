//! The main process's side: scheduling documents on a pool of worker processes.
//!
//! The main process never starts Python, so it may use threads: one thread per worker
//! feeds it jobs and forwards its verdicts as they arrive. A worker that dies is replaced
//! and its job resumes after the snippet that was running, which is charged the crash.
//! Ctrl-C stops the workers and keeps every verdict already received (see `interrupt`); a
//! run its caller cancels takes no new job. Workers come from a [`Session`], which keeps
//! them warm for later runs; `worker_process` starts a worker and talks to it.

use std::collections::VecDeque;
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use snipcheck_record::{Category, Outcome, PythonInfo, SandboxReport, Snippet, Verdict};

use crate::interrupt::{interrupted, kill_workers, Cancel};
use crate::protocol::{self, time_limit, Isolation, Job, WorkerMessage};
use crate::session::{Lease, Session};
pub use crate::side_resolve::SideResolve;
use crate::work_folders::WorkFolders;
use crate::worker_process::{PoolOptions, Worker};

/// How long a cancelled run's job may go on at least before its worker is killed. Beyond
/// that, a job may go on for as long as its worker took to start: a quick document ends by
/// itself and its worker stays warm, while waiting longer for a slow or hanging one would
/// cost more than starting a new worker.
const CANCEL_GRACE: Duration = Duration::from_millis(500);

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
    pub outcomes: Vec<Vec<Verdict>>,
    /// True when Ctrl-C stopped the run: snippets without a verdict are marked skipped.
    pub interrupted: bool,
    /// True when the caller cancelled the run: its verdicts are incomplete.
    pub cancelled: bool,
}

/// Runs every job on workers of its own, ended with the run; `on_progress` sees each
/// verdict the moment it arrives.
pub fn run(
    options: &PoolOptions,
    jobs: &[DocumentJob],
    on_progress: impl FnMut(Progress<'_>),
) -> Result<PoolResult> {
    run_in(
        &Session::new(),
        &Cancel::default(),
        options,
        jobs,
        None,
        on_progress,
    )
}

/// Whether the pool cuts `jobs` into at least one job per worker: documents, or their parts
/// under `--isolate library` and `--isolate snippet`. A part is never more than a document,
/// so the documents are cut (every snippet's imports read, as the run does again) only
/// when there are fewer of them than workers.
pub fn has_a_job_per_worker(options: &PoolOptions, jobs: &[DocumentJob]) -> bool {
    let workers = options.workers.max(1);
    let documents = jobs.iter().filter(|j| !j.snippets.is_empty()).count();
    documents >= workers
        || (options.isolate != Isolation::Document
            && split_into_parts(jobs, options.isolate).len() >= workers)
}

/// [`run`] on the workers `session` keeps, which it keeps again afterwards; `cancel` stops
/// the run early. `resolving`, when given, is answered by the workers between their jobs
/// (see [`SideResolve`]).
pub fn run_in(
    session: &Session,
    cancel: &Cancel,
    options: &PoolOptions,
    jobs: &[DocumentJob],
    resolving: Option<&SideResolve>,
    mut on_progress: impl FnMut(Progress<'_>),
) -> Result<PoolResult> {
    session.begin(options)?;
    let mut outcomes: Vec<Vec<Option<Verdict>>> =
        jobs.iter().map(|j| vec![None; j.snippets.len()]).collect();
    let parts = split_into_parts(jobs, options.isolate);
    let plan = Plan {
        jobs,
        parts: &parts,
        folders: WorkFolders::default(),
        isolate: options.isolate,
    };
    // The queue holds where each part stands, not its snippets: a job's copy of them is
    // made when a worker takes it, so a large run holds its snippets once.
    let mut queued: Vec<Queued> = (0..parts.len()).map(|part| plan.queued(part)).collect();
    let pending = queued.len();
    let workers = options.workers.clamp(1, pending.max(1));
    if options.isolate == Isolation::Library && pending > workers {
        // Documents are cut so that their libraries import at once: with more parts than
        // workers, the slowest imports must not start last.
        heaviest_first(&mut queued, &options.env);
    }
    let queue: Mutex<VecDeque<Queued>> = Mutex::new(queued.into());
    let (sender, receiver) = mpsc::channel::<Event>();
    let mut inbox = Inbox {
        receiver,
        flowing: false,
    };
    let mut python = None;
    let mut sandbox = None;
    let mut failure = None;
    // The workers running a job now and what replacing each costs, so a cancelled run can
    // stop them.
    let running: Mutex<Vec<(u32, Duration)>> = Mutex::new(Vec::new());
    let mut cancelled_at = None;

    std::thread::scope(|scope| {
        for id in 0..workers.min(pending) {
            let sender = sender.clone();
            let feeder = Feeder {
                id,
                options,
                plan: &plan,
                resolving,
                session,
                cancel,
                queue: &queue,
                running: &running,
                events: sender.clone(),
            };
            scope.spawn(move || {
                if let Err(err) = feeder.feed() {
                    let _ = sender.send(Event::Failed(err));
                }
            });
        }
        drop(sender);
        loop {
            if cancel.is_cancelled() {
                if let Ok(mut queue) = queue.lock() {
                    queue.clear();
                }
                kill_running(
                    &running,
                    cancelled_at.get_or_insert_with(Instant::now).elapsed(),
                );
            }
            let event = match inbox.next(Duration::from_millis(100)) {
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
            let message = match event {
                Event::Worker(message) => *message,
                Event::Failed(err) => {
                    // No worker can run anything: stop the others rather than wait.
                    if let Ok(mut queue) = queue.lock() {
                        queue.clear();
                    }
                    failure.get_or_insert(err);
                    continue;
                }
            };
            match message {
                WorkerMessage::Ready {
                    python: info,
                    sandbox: report,
                } => {
                    python = Some(info);
                    sandbox = Some(report);
                }
                WorkerMessage::Finished {
                    job: part,
                    index,
                    mut verdict,
                } => {
                    let (job, index) = parts[part].origin(index);
                    // Judged here, where every ending arrives (a dead worker's too).
                    let snippet = &jobs[job].snippets[index];
                    if let Some(expectation) = &snippet.xfail {
                        verdict.outcome = expectation.judge(verdict.outcome);
                    }
                    on_progress(Progress::Verdict {
                        snippet: &jobs[job].snippets[index],
                        outcome: &verdict.outcome,
                    });
                    outcomes[job][index] = Some(verdict);
                }
                WorkerMessage::Slow {
                    job: part,
                    index,
                    seconds,
                } => {
                    let (job, index) = parts[part].origin(index);
                    on_progress(Progress::Slow {
                        snippet: &jobs[job].snippets[index],
                        seconds,
                        limit: time_limit(&jobs[job].snippets[index], jobs[job].timeout_s),
                    })
                }
                WorkerMessage::Done { .. } | WorkerMessage::Fatal { .. } => {}
            }
        }
    });
    // Whatever a killed worker could not clean up: its cgroups and their processes.
    crate::sandbox::sweep_cgroups(std::process::id());
    let interrupted = interrupted();
    let cancelled = cancel.is_cancelled();
    if let Some(err) = failure.filter(|_| !interrupted && !cancelled) {
        return Err(err);
    }
    let outcomes = outcomes
        .into_iter()
        .map(|job| {
            job.into_iter()
                .map(|o| {
                    o.unwrap_or_else(|| {
                        if cancelled {
                            protocol::failure(
                                Category::Skipped,
                                "Cancelled",
                                "no verdict: the run was cancelled first".into(),
                                0.0,
                            )
                            .into()
                        } else if interrupted {
                            protocol::failure(
                                Category::Skipped,
                                "Interrupted",
                                "no verdict: the run was interrupted first".into(),
                                0.0,
                            )
                            .into()
                        } else {
                            lost("no verdict was reported".into()).into()
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
        cancelled,
    })
}

/// The pool's end of the feeders' channel. While events keep coming it takes them a batch
/// at a time, pausing in between: a feeder then finds it not waiting and sends without
/// waking it, where waking it for every verdict (a futex call and two context switches)
/// took a fifth of the main process's time in a large run. Idle, it blocks as usual.
struct Inbox {
    receiver: mpsc::Receiver<Event>,
    /// Whether the last event came while events were flowing: the next wait starts with a
    /// pause.
    flowing: bool,
}

impl Inbox {
    /// Short beside anything a person sees, long beside the time between two verdicts.
    const PAUSE: Duration = Duration::from_millis(5);

    /// The next event, waiting at most `timeout` once the pause found none.
    fn next(&mut self, timeout: Duration) -> Result<Event, mpsc::RecvTimeoutError> {
        match self.receiver.try_recv() {
            Ok(event) => return Ok(event),
            Err(mpsc::TryRecvError::Disconnected) => {
                return Err(mpsc::RecvTimeoutError::Disconnected)
            }
            Err(mpsc::TryRecvError::Empty) => {}
        }
        if std::mem::take(&mut self.flowing) {
            std::thread::sleep(Self::PAUSE);
            if let Ok(event) = self.receiver.try_recv() {
                self.flowing = true;
                return Ok(event);
            }
        }
        let event = self.receiver.recv_timeout(timeout)?;
        self.flowing = true;
        Ok(event)
    }
}

/// Kills the workers whose job has gone on for `since_cancelled` longer than it is worth
/// waiting for (their feeders see them die).
fn kill_running(running: &Mutex<Vec<(u32, Duration)>>, since_cancelled: Duration) {
    if let Ok(pids) = running.lock() {
        for &(pid, start_cost) in pids.iter() {
            if since_cancelled < start_cost.max(CANCEL_GRACE) {
                continue;
            }
            // SAFETY: signalling a worker process a feeder holds (not yet reaped).
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
    }
}

/// A piece of one document that runs as one job: under `--isolate document`, the whole
/// document; under `--isolate library`, the snippets that use the same libraries (see
/// [`split_into_parts`]); under `--isolate snippet`, the snippets that import the same modules (a
/// session's snippets stay together: they share one namespace, so one child).
#[derive(Debug, PartialEq)]
struct Part {
    document: usize,
    /// Indices of its snippets in the document, in document order.
    indices: Vec<usize>,
}

impl Part {
    /// The document and snippet index of the part's snippet `index`.
    fn origin(&self, index: usize) -> (usize, usize) {
        (self.document, self.indices[index])
    }
}

/// Cuts the documents into jobs. Splitting by imports lets `--isolate snippet` fork each
/// snippet from a worker holding only what it imports: a fork of a worker that imported
/// scikit-learn costs several times that of a bare one (the page tables of ~1000 mappings
/// are copied and torn down each time). Parts that import something come first, so the
/// slow imports start while the light parts fill the other cores.
///
/// Under `--isolate library`, a document is cut by library (see [`by_library`]) unless a
/// snippet may pass something to a later one outside its namespace (`shared_state`): so a
/// document importing TensorFlow in one example and PyTorch in another need not import
/// them one after the other. The parts run at once, and their verdicts go back to their
/// places in the document. Otherwise it runs whole, as under `--isolate document`.
fn split_into_parts(jobs: &[DocumentJob], isolate: Isolation) -> Vec<Part> {
    // (part, whether it imports anything), so the imports are read once per snippet.
    let mut parts: Vec<(Part, bool)> = Vec::new();
    for (document, job) in jobs.iter().enumerate() {
        if job.snippets.is_empty() {
            continue;
        }
        let imports: Vec<_> = job
            .snippets
            .iter()
            .map(|s| crate::imports::imported_modules(&s.code))
            .collect();
        if isolate != Isolation::Snippet {
            // Read only where it can cut the document: it scans every snippet's text.
            let independent = || {
                !job.snippets
                    .iter()
                    .any(|s| crate::shared_state::may_share_state(&s.code))
            };
            if isolate == Isolation::Library && independent() {
                parts.extend(by_library(document, job, &imports));
            } else {
                let part = Part {
                    document,
                    indices: (0..job.snippets.len()).collect(),
                };
                parts.push((part, imports.iter().any(|m| !m.is_empty())));
            }
            continue;
        }
        // Key: the session, else the imports; parts in order of first appearance.
        let mut keyed: Vec<(PartKey, Part, bool)> = Vec::new();
        for ((index, snippet), modules) in job.snippets.iter().enumerate().zip(imports) {
            let imports_some = !modules.is_empty();
            let key = match &snippet.session {
                Some(session) => PartKey::Session(session.clone()),
                None => PartKey::Imports(modules),
            };
            match keyed.iter_mut().find(|(k, _, _)| *k == key) {
                Some((_, part, any)) => {
                    part.indices.push(index);
                    *any |= imports_some;
                }
                None => keyed.push((
                    key,
                    Part {
                        document,
                        indices: vec![index],
                    },
                    imports_some,
                )),
            }
        }
        parts.extend(keyed.into_iter().map(|(_, part, any)| (part, any)));
    }
    // Stable: document order within each group.
    parts.sort_by_key(|(_, imports_some)| !imports_some);
    parts.into_iter().map(|(part, _)| part).collect()
}

/// A document's snippets grouped so that no library is used in two groups: snippets that
/// import a common top-level package (or share a session) are in one part, in document
/// order, so whatever a snippet leaves in a library's modules (a cache, a registry) is
/// there for the later snippets using that library, as in the uncut document. Snippets
/// importing nothing form one part. Returned with whether each part imports anything.
fn by_library(
    document: usize,
    job: &DocumentJob,
    imports: &[std::collections::BTreeSet<String>],
) -> Vec<(Part, bool)> {
    // Each snippet's group, merged whenever a snippet names a key of two groups.
    let mut group: Vec<usize> = (0..job.snippets.len()).collect();
    let mut owner: std::collections::HashMap<String, usize> = Default::default();
    for (index, (snippet, modules)) in job.snippets.iter().zip(imports).enumerate() {
        let libraries = modules.iter().map(|m| crate::imports::top_level(m));
        let mut keys: Vec<String> = libraries.map(|l| format!("library {l}")).collect();
        keys.extend(snippet.session.iter().map(|s| format!("session {s}")));
        if keys.is_empty() {
            keys.push("nothing".into());
        }
        for key in keys {
            let other = *owner.entry(key).or_insert(index);
            let (from, to) = (group[other], group[index]);
            if from != to {
                group
                    .iter_mut()
                    .filter(|g| **g == from)
                    .for_each(|g| *g = to);
            }
        }
    }
    let mut parts: Vec<(Part, bool)> = Vec::new();
    let mut seen: Vec<usize> = Vec::new();
    for index in 0..job.snippets.len() {
        let p = match seen.iter().position(|&g| g == group[index]) {
            Some(p) => p,
            None => {
                seen.push(group[index]);
                let indices = Vec::new();
                parts.push((Part { document, indices }, false));
                parts.len() - 1
            }
        };
        parts[p].0.indices.push(index);
        parts[p].1 |= !imports[index].is_empty();
    }
    parts
}

#[derive(Debug, PartialEq)]
enum PartKey {
    Session(String),
    Imports(std::collections::BTreeSet<String>),
}

/// What the feeding threads tell the pool: a worker's message (`Ready`, `Finished`, `Slow`;
/// a dead worker's verdict is made up as `Finished`), or that no worker can run.
enum Event {
    Worker(Box<WorkerMessage>),
    Failed(anyhow::Error),
}

/// How many warm workers one feeding thread keeps under `--isolate snippet`, one per set of
/// imports; the least recently used goes back to the session when another set needs one.
pub(crate) const WORKERS_PER_THREAD: usize = 3;

/// What one feeding thread works with.
struct Feeder<'a> {
    /// Tells the threads apart (for [`SideResolve`]).
    id: usize,
    options: &'a PoolOptions,
    plan: &'a Plan<'a>,
    resolving: Option<&'a SideResolve>,
    session: &'a Session,
    cancel: &'a Cancel,
    queue: &'a Mutex<VecDeque<Queued>>,
    running: &'a Mutex<Vec<(u32, Duration)>>,
    events: mpsc::Sender<Event>,
}

impl<'a> Feeder<'a> {
    /// Takes jobs from the queue until it is empty, replacing a worker that dies; the
    /// workers that finished cleanly go back to the session.
    ///
    /// Under `--isolate document` the thread keeps one worker, warmed with what its first
    /// job imports: a document's child is forked once, and a second warm-up would cost more
    /// than it saves. Under `--isolate snippet` every snippet is a fork, so each job goes to
    /// a worker warmed with exactly its imports, started when the thread has none.
    fn feed(&self) -> Result<()> {
        // Most recently used last.
        let mut workers: Vec<Lease<'a>> = Vec::new();
        let fed = (|| {
            while let Some(end) = self.feed_one(&mut workers)? {
                if end == Fed::Stop {
                    break;
                }
            }
            Ok(())
        })();
        if let Some(resolving) = self.resolving {
            let stopped = interrupted() || self.cancel.is_cancelled();
            let last = workers.last_mut().filter(|_| !stopped);
            resolving.leaving(self.id, last.map(|lease| lease.worker()));
        }
        for lease in workers {
            lease.keep();
        }
        fed
    }

    /// Runs the next job; `None` when the queue is empty.
    fn feed_one(&self, workers: &mut Vec<Lease<'a>>) -> Result<Option<Fed>> {
        let options = self.options;
        if interrupted() || self.cancel.is_cancelled() {
            return Ok(Some(Fed::Stop));
        }
        let warm: Vec<&Vec<String>> = workers.iter().map(|w| &w.warm().worker.warm).collect();
        let Some(mut queued) = take_job(self.queue, &warm, options.isolate)? else {
            return Ok(None);
        };
        let job = self.plan.job(&queued)?;
        let imports = &queued.imports;
        let wanted = options.warmup.clone().unwrap_or_else(|| imports.clone());
        let found = match options.isolate {
            Isolation::Document | Isolation::Library => (!workers.is_empty()).then_some(0),
            Isolation::Snippet => workers.iter().position(|w| w.warm().worker.warm == wanted),
        };
        let index = match found {
            Some(index) => index,
            None => {
                if workers.len() >= WORKERS_PER_THREAD {
                    workers.remove(0).keep();
                }
                if let Some(resolving) = self.resolving {
                    // Said before the worker is ready: its warm-up can take seconds, while
                    // another thread decides what to leave to it.
                    let held = workers.iter().flat_map(|w| &w.warm().worker.warm);
                    resolving.holds(self.id, held.chain(&wanted));
                }
                let lease = self.session.lease(options, wanted, imports)?;
                let ready = lease.warm();
                let _ = self
                    .events
                    .send(Event::Worker(Box::new(WorkerMessage::Ready {
                        python: ready.python.clone(),
                        sandbox: ready.sandbox.clone(),
                    })));
                workers.push(lease);
                workers.len() - 1
            }
        };
        let mut lease = workers.remove(index);
        let pid = lease.worker().pid();
        self.set_running(pid, Some(lease.warm().start_cost));
        let ended = lease.worker().run(&job, &self.events);
        self.set_running(pid, None);
        match ended? {
            JobEnd::Done => {
                self.plan.folders.part_ended(queued.part);
                if let Some(resolving) = self.resolving {
                    self.set_running(pid, Some(lease.warm().start_cost));
                    resolving.answer_warm(lease.worker());
                    self.set_running(pid, None);
                }
                workers.push(lease);
            }
            JobEnd::WorkerDied { running, how } => {
                drop(lease);
                if interrupted() || self.cancel.is_cancelled() {
                    return Ok(Some(Fed::Stop));
                }
                if queued.confirmed {
                    // Every verdict before `running` arrived before it started: it is the
                    // one that took the worker down. Charge it, resume after it.
                    let _ = self
                        .events
                        .send(Event::Worker(Box::new(WorkerMessage::Finished {
                            job: job.job,
                            index: running,
                            verdict: lost(format!(
                                "the worker process running the snippet died ({how})"
                            ))
                            .into(),
                        })));
                    queued.start = running + 1;
                } else {
                    // The child runs ahead of the worker's forwarding, so snippets after the
                    // last verdict received may have run, their verdicts lost with the
                    // worker: run them again, confirming each verdict before the next.
                    queued.start = running;
                    queued.confirmed = true;
                }
                if queued.start < job.snippets.len() {
                    self.queue
                        .lock()
                        .map_err(|_| anyhow!("queue poisoned"))?
                        .push_front(queued);
                } else {
                    self.plan.folders.part_ended(queued.part);
                }
            }
        }
        Ok(Some(Fed::Next))
    }

    /// Notes that worker `pid` runs a job (with what replacing it costs), or no longer does.
    fn set_running(&self, pid: u32, start_cost: Option<Duration>) {
        if let Ok(mut pids) = self.running.lock() {
            pids.retain(|&(p, _)| p != pid);
            if let Some(cost) = start_cost {
                pids.push((pid, cost));
            }
        }
    }
}

#[derive(PartialEq)]
enum Fed {
    Next,
    Stop,
}

/// The next job for a thread whose workers have these warm-ups.
///
/// `--isolate document`: preferably one whose imports a worker has already done, so heavy
/// imports (TensorFlow takes seconds) are paid by as few processes as possible.
/// `--isolate snippet`: one whose imports a worker has exactly; else, once the thread has
/// a worker, the one importing least (a bare worker starts in milliseconds, while the
/// heavy parts at the front of the queue are likely being run by another thread).
fn take_job(
    queue: &Mutex<VecDeque<Queued>>,
    warm: &[&Vec<String>],
    isolate: Isolation,
) -> Result<Option<Queued>> {
    let mut queue = queue.lock().map_err(|_| anyhow!("queue poisoned"))?;
    let position = match isolate {
        Isolation::Document | Isolation::Library => queue.iter().position(|queued| {
            warm.iter()
                .any(|w| queued.imports.iter().all(|m| w.contains(m)))
        }),
        Isolation::Snippet => queue
            .iter()
            .position(|queued| warm.contains(&&queued.imports))
            .or_else(|| {
                let lightest = queue
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, queued)| queued.imports.len());
                lightest.filter(|_| !warm.is_empty()).map(|(i, _)| i)
            }),
    };
    Ok(queue.remove(position.unwrap_or(0)))
}

/// Orders the parts by how heavy their imports look (see [`import_weight`]), heaviest
/// first; stable, so equal parts keep document order.
///
/// [`import_weight`]: crate::import_weight
fn heaviest_first(queued: &mut [Queued], env: &crate::venv::PythonEnv) {
    let libraries = |q: &Queued| {
        let mut all: Vec<String> = q
            .imports
            .iter()
            .map(|m| crate::imports::top_level(m).to_string())
            .collect();
        all.sort();
        all.dedup();
        all
    };
    let mut every: Vec<String> = queued.iter().flat_map(libraries).collect();
    every.sort();
    every.dedup();
    let weights =
        crate::import_weight::weigh(env, &every.iter().map(String::as_str).collect::<Vec<_>>());
    queued.sort_by_cached_key(|q| {
        std::cmp::Reverse(libraries(q).iter().map(|l| weights[l]).sum::<u64>())
    });
}

/// A part waiting in the queue: where it resumes, and the modules its snippets and the
/// fixtures they name import (read once).
struct Queued {
    part: usize,
    /// The first snippet to run, and whether each verdict is confirmed before the next
    /// (see [`Job::confirmed`]): both change when a worker dies.
    start: usize,
    confirmed: bool,
    imports: Vec<String>,
}

/// The parts of the run and what a worker needs to run one.
struct Plan<'a> {
    jobs: &'a [DocumentJob],
    parts: &'a [Part],
    /// Each part's working folders.
    folders: WorkFolders,
    isolate: Isolation,
}

impl Plan<'_> {
    /// The imports are the part's snippets' and those of the fixtures they name, which run
    /// before each of them in the same child.
    fn queued(&self, part: usize) -> Queued {
        let document = &self.jobs[self.parts[part].document];
        let snippets = || {
            self.parts[part]
                .indices
                .iter()
                .map(|&i| &document.snippets[i])
        };
        let fixtures = document
            .fixtures
            .iter()
            .filter(|f| snippets().any(|s| s.fixtures.contains(&f.name)));
        let imports: std::collections::BTreeSet<String> = snippets()
            .map(|s| s.code.as_str())
            .chain(fixtures.map(|f| f.code.as_str()))
            .flat_map(crate::imports::imported_modules)
            .collect();
        Queued {
            part,
            start: 0,
            confirmed: false,
            imports: imports.into_iter().collect(),
        }
    }

    /// The job a worker runs for `queued`, with its own copy of the part's snippets.
    fn job(&self, queued: &Queued) -> Result<Job> {
        let part = &self.parts[queued.part];
        let document = &self.jobs[part.document];
        Ok(Job {
            job: queued.part,
            snippets: part
                .indices
                .iter()
                .map(|&s| document.snippets[s].clone())
                .collect(),
            start: queued.start,
            timeout_s: document.timeout_s,
            isolate: self.isolate,
            fixtures: document.fixtures.clone(),
            confirmed: queued.confirmed,
            folders: Some(self.folders.for_part(queued.part)?),
        })
    }
}

enum JobEnd {
    Done,
    /// The worker died (`how`: its exit status) after sending the verdicts before
    /// `running`.
    WorkerDied {
        running: usize,
        how: String,
    },
}

/// A worker as the scheduler drives it: a job run to its end or to the worker's death.
impl Worker {
    fn run(&mut self, job: &Job, events: &mpsc::Sender<Event>) -> Result<JobEnd> {
        if self.send(job).is_err() {
            return Ok(JobEnd::WorkerDied {
                running: job.start,
                how: self.exit_status(),
            });
        }
        // Snippets of a job run in order: the one running is the one after the last verdict.
        let mut running = job.start;
        loop {
            match self.next_message()? {
                Some(message @ WorkerMessage::Finished { index, .. }) => {
                    running = index + 1;
                    let _ = events.send(Event::Worker(Box::new(message)));
                }
                Some(message @ WorkerMessage::Slow { .. }) => {
                    let _ = events.send(Event::Worker(Box::new(message)));
                }
                Some(WorkerMessage::Done { .. }) => return Ok(JobEnd::Done),
                Some(WorkerMessage::Fatal { message }) => bail!("worker failed: {message}"),
                Some(WorkerMessage::Ready { .. }) => {}
                None => {
                    return Ok(JobEnd::WorkerDied {
                        running,
                        how: self.exit_status(),
                    })
                }
            }
        }
    }
}

/// A snippet whose verdict was lost with its worker.
fn lost(message: String) -> Outcome {
    protocol::failure(Category::Crashed, "Lost", message, 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snippet(code: &str, session: Option<&str>) -> Snippet {
        Snippet {
            code: code.into(),
            session: session.map(Into::into),
            ..Snippet::default()
        }
    }

    fn document(snippets: Vec<Snippet>) -> DocumentJob {
        DocumentJob {
            snippets,
            timeout_s: 1.0,
            fixtures: vec![],
        }
    }

    #[test]
    fn a_job_imports_what_its_snippets_and_the_fixtures_they_name_import() {
        let fixture = |name: &str, code: &str| crate::protocol::Fixture {
            name: name.into(),
            path: format!("{name}.py"),
            code: code.into(),
        };
        let mut uses = snippet("import json", None);
        uses.fixtures = vec!["data".into()];
        let mut job = document(vec![uses]);
        job.fixtures = vec![
            fixture("data", "import fractions\nx = 1"),
            fixture("unused", "import decimal"),
        ];
        let jobs = [job];
        let parts = split_into_parts(&jobs, Isolation::Document);
        let plan = Plan {
            jobs: &jobs,
            parts: &parts,
            folders: WorkFolders::default(),
            isolate: Isolation::Document,
        };
        assert_eq!(plan.queued(0).imports, ["fractions", "json"]);
    }

    #[test]
    fn a_document_is_one_part_when_documents_are_isolated() {
        let jobs = vec![
            document(vec![snippet("x = 1", None), snippet("import numpy", None)]),
            document(vec![]),
        ];
        assert_eq!(
            split_into_parts(&jobs, Isolation::Document),
            vec![Part {
                document: 0,
                indices: vec![0, 1]
            }]
        );
    }

    #[test]
    fn documents_are_cut_by_library_when_libraries_are_isolated() {
        let jobs = vec![document(vec![
            snippet("import tensorflow as tf", None),
            snippet(
                "from sklearn.svm import SVC\nsvm = SVC(kernel='linear')",
                None,
            ),
            snippet("x = 1", None),
            snippet("import numpy as np", None),
            snippet("import numpy\nfrom sklearn import metrics", None),
            snippet("import torch", Some("s")),
            snippet("y = 2", Some("s")),
            snippet("import tensorflow.keras", None),
        ])];
        let part = |indices: &[usize]| Part {
            document: 0,
            indices: indices.to_vec(),
        };
        // numpy and sklearn meet in snippet 4: one part; the session keeps its snippets.
        assert_eq!(
            split_into_parts(&jobs, Isolation::Library),
            vec![part(&[0, 7]), part(&[1, 3, 4]), part(&[5, 6]), part(&[2])]
        );
        assert_eq!(split_into_parts(&jobs, Isolation::Document).len(), 1);
    }

    #[test]
    fn the_parts_with_the_heaviest_imports_go_first_equal_ones_in_document_order() {
        let root = tempfile::tempdir().unwrap();
        let sp = root.path().join("lib/python3.11/site-packages");
        for (package, files) in [("big", 30), ("mid", 20), ("small", 3)] {
            std::fs::create_dir_all(sp.join(package)).unwrap();
            for i in 0..files {
                std::fs::write(sp.join(package).join(format!("m{i}.py")), "").unwrap();
            }
        }
        let env = crate::venv::PythonEnv {
            root: root.path().to_path_buf(),
        };
        let queued = |part: usize, imports: &[&str]| Queued {
            part,
            start: 0,
            confirmed: false,
            imports: imports.iter().map(|m| m.to_string()).collect(),
        };
        // Every part also imports what the fixture does (small).
        let mut parts = vec![
            queued(0, &["small", "missing"]),
            queued(1, &["small.sub"]),
            queued(2, &["mid.a", "small"]),
            queued(3, &["big", "small"]),
            queued(4, &[]),
        ];
        heaviest_first(&mut parts, &env);
        let order: Vec<usize> = parts.iter().map(|q| q.part).collect();
        assert_eq!(order, [3, 2, 0, 1, 4]);
    }

    #[test]
    fn a_document_whose_snippets_may_share_files_or_state_is_not_cut() {
        for shared in [
            "df.to_csv('out.csv')",
            "import numpy as np\nnp.random.seed(0)",
        ] {
            let jobs = vec![document(vec![
                snippet("import torch", None),
                snippet(shared, None),
                snippet("import pandas as pd\ndf = pd.read_csv('out.csv')", None),
            ])];
            assert_eq!(split_into_parts(&jobs, Isolation::Library).len(), 1);
        }
    }

    #[test]
    fn snippets_are_grouped_by_imports_and_sessions_when_snippets_are_isolated() {
        let jobs = vec![
            document(vec![
                snippet("x = 1", None),
                snippet("import numpy as np", None),
                snippet("a = 1", Some("s")),
                snippet("y = 2", None),
                snippet("import sklearn\nassert a == 1", Some("s")),
                snippet("import numpy\nz = 3", None),
            ]),
            document(vec![snippet("w = 0", None)]),
        ];
        let parts = split_into_parts(&jobs, Isolation::Snippet);
        let part = |document, indices: &[usize]| Part {
            document,
            indices: indices.to_vec(),
        };
        // Parts that import something first, each group in document order.
        assert_eq!(
            parts,
            vec![
                part(0, &[1, 5]),
                part(0, &[2, 4]),
                part(0, &[0, 3]),
                part(1, &[0]),
            ]
        );
        assert_eq!(parts[1].origin(1), (0, 4));
    }

    #[test]
    fn isolated_snippets_go_to_the_worker_with_exactly_their_imports() {
        let queue = |codes: &[&str]| {
            let queued = codes.iter().enumerate().map(|(part, code)| Queued {
                part,
                start: 0,
                confirmed: false,
                imports: crate::imports::imported_modules(code).into_iter().collect(),
            });
            Mutex::new(queued.collect::<VecDeque<_>>())
        };
        let taken = |queue: &Mutex<VecDeque<Queued>>, warm: &[&Vec<String>]| {
            take_job(queue, warm, Isolation::Snippet)
                .unwrap()
                .map(|queued| queued.part)
        };
        let numpy = vec!["numpy".to_string()];
        let sklearn = vec!["sklearn".to_string()];
        let codes = ["import sklearn", "import numpy", "x = 1"];
        // A thread without workers takes the front of the queue (the heavy parts).
        assert_eq!(taken(&queue(&codes), &[]), Some(0));
        // One with a numpy worker takes the numpy part.
        assert_eq!(taken(&queue(&codes), &[&numpy]), Some(1));
        // Exactly: not the first part a worker could run.
        assert_eq!(
            taken(&queue(&["x = 1", "import sklearn"]), &[&sklearn]),
            Some(1)
        );
        // A thread whose workers fit nothing takes the lightest part, not the heavy one
        // another thread is probably importing for.
        assert_eq!(taken(&queue(&codes), &[&vec!["torch".into()]]), Some(2));
        assert_eq!(taken(&queue(&[]), &[&numpy]), None);
    }
}

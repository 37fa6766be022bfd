//! Worker processes kept between runs. A long-lived caller (the language server, `watch`)
//! runs every check in one [`Session`], so a check after an edit forks its children from a
//! worker that has already imported the document's libraries instead of starting one anew.
//!
//! Keeping workers changes no verdict: a worker never runs a snippet itself, it only forks
//! the children that do, so whatever a snippet does to a module or to `sys.modules` ends
//! with its child; the worker holds only what it imported before forking. A kept worker
//! serves only runs that would start it the same way (see [`identity`]): a changed
//! environment (packages installed) or config ends the kept workers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use snipcheck_record::{PythonInfo, SandboxReport};

use crate::protocol::Isolation;
use crate::worker_process::{end_together, PoolOptions, Worker};

/// Workers kept warm between runs. Dropping it ends the idle ones.
#[derive(Default)]
pub struct Session {
    kept: Mutex<Kept>,
    started: AtomicU64,
    reused: AtomicU64,
}

#[derive(Default)]
struct Kept {
    /// How the idle workers were started, as [`identity`] puts it.
    identity: Option<String>,
    /// How many idle workers to keep.
    limit: usize,
    /// Least recently used first.
    idle: Vec<Warm>,
    /// Workers a run holds now.
    busy: Vec<u32>,
    /// After [`Session::close`]: no worker starts or is kept any more.
    closed: bool,
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Ok(kept) = self.kept.get_mut() {
            end_warm(std::mem::take(&mut kept.idle));
        }
    }
}

/// Ends kept workers side by side (see [`end_together`]).
fn end_warm(warm: Vec<Warm>) {
    end_together(warm.into_iter().map(|warm| warm.worker).collect());
}

/// A started worker with what it said when it was ready, to be said again to each run that
/// gets it.
pub(crate) struct Warm {
    pub(crate) worker: Worker,
    pub(crate) python: PythonInfo,
    pub(crate) sandbox: SandboxReport,
    /// How long it took to start and warm up: what replacing it would cost.
    pub(crate) start_cost: Duration,
}

/// What a session holds and has done, for a front end to show (and tests to observe).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionStatus {
    /// Worker processes started over the session's life.
    pub workers_started: u64,
    /// Times a run got a kept worker instead of starting one.
    pub workers_reused: u64,
    /// Process ids of the session's live workers, idle or busy, ascending.
    pub worker_pids: Vec<u32>,
}

impl Session {
    pub fn new() -> Session {
        Session::default()
    }

    pub fn status(&self) -> SessionStatus {
        let mut worker_pids = Vec::new();
        if let Ok(mut kept) = self.kept.lock() {
            kept.idle.retain_mut(|warm| !warm.worker.has_ended());
            worker_pids.extend(kept.idle.iter().map(|warm| warm.worker.pid()));
            worker_pids.extend(kept.busy.iter().copied());
        }
        worker_pids.sort_unstable();
        SessionStatus {
            workers_started: self.started.load(Ordering::SeqCst),
            workers_reused: self.reused.load(Ordering::SeqCst),
            worker_pids,
        }
    }

    /// Ends every worker for good: the idle ones, and those a run holds (killed; that run
    /// sees them die and ends). A run asking for a worker afterwards fails.
    pub fn close(&self) {
        let idle = match self.kept.lock() {
            Ok(mut kept) => {
                kept.closed = true;
                for &pid in &kept.busy {
                    // SAFETY: signalling a worker process this session started and whose
                    // handle is still held (so not reaped: the pid is still its).
                    unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
                }
                std::mem::take(&mut kept.idle)
            }
            Err(_) => Vec::new(),
        };
        end_warm(idle);
    }

    /// Starts a run: kept workers started otherwise than `options` asks are ended.
    pub(crate) fn begin(&self, options: &PoolOptions) -> Result<()> {
        let identity = identity(options)?;
        let per_thread = match options.isolate {
            Isolation::Document => 1,
            // Up to twice as many threads as `--jobs`, one worker each.
            Isolation::Library => 2,
            Isolation::Snippet => crate::pool::WORKERS_PER_THREAD,
        };
        let stale = match self.kept.lock() {
            Ok(mut kept) => {
                kept.limit = options.workers.max(1) * per_thread;
                if kept.identity.as_ref() == Some(&identity) {
                    Vec::new()
                } else {
                    kept.identity = Some(identity);
                    std::mem::take(&mut kept.idle)
                }
            }
            Err(_) => Vec::new(),
        };
        // Outside the lock: ending a worker waits for it.
        end_warm(stale);
        Ok(())
    }

    /// A worker warmed with `wanted` for a job importing `imports`: a kept one if one fits,
    /// else a new one. Under `--isolate document` a kept worker that imported more than the
    /// job does fits too (as a worker of one run serves several documents); under
    /// `--isolate snippet` only exactly `wanted` does, so forks stay cheap.
    pub(crate) fn lease(
        &self,
        options: &PoolOptions,
        wanted: Vec<String>,
        imports: &[String],
    ) -> Result<Lease<'_>> {
        if let Some(warm) = self.take_idle(&wanted, imports, options.isolate) {
            self.reused.fetch_add(1, Ordering::SeqCst);
            return Ok(Lease {
                session: self,
                warm: Some(warm),
            });
        }
        if self.is_closed() {
            bail!("the session is closed");
        }
        let starting = Instant::now();
        let (worker, python, sandbox) = Worker::start(options, wanted)?;
        let start_cost = starting.elapsed();
        self.started.fetch_add(1, Ordering::SeqCst);
        match self.kept.lock() {
            // Closed while it started: it goes (dropped) rather than outlive the session.
            Ok(kept) if kept.closed => bail!("the session is closed"),
            Ok(mut kept) => kept.busy.push(worker.pid()),
            Err(_) => bail!("the session's lock is poisoned"),
        }
        Ok(Lease {
            session: self,
            warm: Some(Warm {
                worker,
                python,
                sandbox,
                start_cost,
            }),
        })
    }

    fn is_closed(&self) -> bool {
        self.kept.lock().map_or(true, |kept| kept.closed)
    }

    fn take_idle(&self, wanted: &[String], imports: &[String], isolate: Isolation) -> Option<Warm> {
        let mut kept = self.kept.lock().ok()?;
        // A worker killed while idle is of no use; dropping it reaps it.
        kept.idle.retain_mut(|warm| !warm.worker.has_ended());
        let exact = kept
            .idle
            .iter()
            .rposition(|warm| warm.worker.warm == wanted);
        let covering = || {
            kept.idle
                .iter()
                .rposition(|warm| imports.iter().all(|m| warm.worker.warm.contains(m)))
        };
        let index = match isolate {
            Isolation::Document | Isolation::Library => exact.or_else(covering),
            Isolation::Snippet => exact,
        }?;
        let warm = kept.idle.remove(index);
        kept.busy.push(warm.worker.pid());
        Some(warm)
    }

    fn give_back(&self, warm: Warm) {
        let evicted = match self.kept.lock() {
            Ok(mut kept) => {
                let pid = warm.worker.pid();
                kept.busy.retain(|&busy| busy != pid);
                if kept.closed {
                    return;
                }
                kept.idle.push(warm);
                let surplus = kept.idle.len().saturating_sub(kept.limit);
                kept.idle.drain(..surplus).collect()
            }
            Err(_) => vec![warm],
        };
        drop(evicted);
    }

    fn forget(&self, pid: u32) {
        if let Ok(mut kept) = self.kept.lock() {
            kept.busy.retain(|&busy| busy != pid);
        }
    }
}

/// A worker a run holds. Dropped, it ends; [`Lease::keep`] gives it back to the session
/// for later runs, which only a worker that finished its job cleanly may be.
pub(crate) struct Lease<'s> {
    session: &'s Session,
    warm: Option<Warm>,
}

impl Lease<'_> {
    pub(crate) fn warm(&self) -> &Warm {
        self.warm
            .as_ref()
            .expect("a lease holds its worker until it ends")
    }

    pub(crate) fn worker(&mut self) -> &mut Worker {
        &mut self
            .warm
            .as_mut()
            .expect("a lease holds its worker until it ends")
            .worker
    }

    pub(crate) fn keep(mut self) {
        if let Some(warm) = self.warm.take() {
            self.session.give_back(warm);
        }
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(warm) = self.warm.take() {
            self.session.forget(warm.worker.pid());
        }
    }
}

/// Everything that decides how a worker starts and what its children inherit: the program,
/// the environment and the packages in it, the sandbox, the variables passed on, the
/// warm-up list. Two runs with the same identity may share workers.
fn identity(options: &PoolOptions) -> Result<String> {
    let program_modified = std::fs::metadata(&options.program)
        .and_then(|meta| meta.modified())
        .ok();
    Ok(serde_json::json!({
        "program": options.program,
        "program_modified": format!("{program_modified:?}"),
        "env": options.env.root,
        "packages": options.env.fingerprint()?,
        "sandbox": options.sandbox,
        "env_allow": options.env_allow,
        "warmup": options.warmup,
    })
    .to_string())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::{PythonEnv, SandboxOptions};

    fn options(env: &std::path::Path) -> PoolOptions {
        PoolOptions {
            program: PathBuf::from("/nonexistent/worker"),
            env: PythonEnv {
                root: env.to_path_buf(),
            },
            workers: 1,
            warmup: None,
            isolate: Isolation::Document,
            sandbox: SandboxOptions::default(),
            env_allow: Vec::new(),
        }
    }

    #[test]
    fn the_identity_changes_with_the_packages_and_the_config() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("lib/python3.11/site-packages");
        std::fs::create_dir_all(&site).unwrap();
        let before = identity(&options(dir.path())).unwrap();
        assert_eq!(identity(&options(dir.path())).unwrap(), before);
        std::fs::create_dir(site.join("numpy-2.0.dist-info")).unwrap();
        let installed = identity(&options(dir.path())).unwrap();
        assert_ne!(installed, before);
        let mut allowing = options(dir.path());
        allowing.env_allow = vec!["CI".into()];
        assert_ne!(identity(&allowing).unwrap(), installed);
        let mut sandboxed = options(dir.path());
        sandboxed.sandbox.network = true;
        assert_ne!(identity(&sandboxed).unwrap(), installed);
    }
}

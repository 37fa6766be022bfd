//! Names of the prose resolved on the run's own workers, each library on a worker that has
//! already imported it, rather than on a worker of their own.
//!
//! A resolver of its own imports every library the prose names once more, on a core the
//! snippets' workers need: 1 000 snippets importing scikit-learn cost three imports of it
//! on two cores, and the guide's TensorFlow, PyTorch and scikit-learn a second time each.
//! Here a worker that finishes a job answers the libraries it imported before forking (its
//! children start with them loaded); a feeder that runs out of jobs answers those no
//! worker still running has imported. Each library is answered once, by one worker.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::imports::top_level;
use crate::protocol::{Answer, Query, ResolveJob};
use crate::worker_process::Worker;

/// The names to resolve and the answers so far, shared by the run's feeding threads.
pub struct SideResolve {
    state: Mutex<State>,
}

struct State {
    /// The job's limits, with no queries: each library is sent as a job of its own.
    limits: ResolveJob,
    /// Libraries no worker has taken yet, each with its queries, in the order first named.
    waiting: Vec<(String, Vec<Query>)>,
    answers: BTreeMap<usize, Answer>,
    /// The libraries imported by the workers of each feeding thread still running.
    holding: BTreeMap<usize, Vec<String>>,
}

impl SideResolve {
    pub fn new(mut job: ResolveJob) -> SideResolve {
        let mut waiting: Vec<(String, Vec<Query>)> = Vec::new();
        wait_by_library(&mut waiting, std::mem::take(&mut job.resolve));
        SideResolve {
            state: Mutex::new(State {
                limits: job,
                waiting,
                answers: BTreeMap::new(),
                holding: BTreeMap::new(),
            }),
        }
    }

    /// The answers the workers gave, and the queries no worker was asked (the run was cut
    /// short, or no worker was left to ask): the caller resolves those otherwise.
    pub fn answers(&self) -> (BTreeMap<usize, Answer>, Vec<Query>) {
        let Ok(mut state) = self.state.lock() else {
            return (BTreeMap::new(), Vec::new());
        };
        let unasked = std::mem::take(&mut state.waiting)
            .into_iter()
            .flat_map(|(_, queries)| queries)
            .collect();
        (std::mem::take(&mut state.answers), unasked)
    }

    /// Feeding thread `feeder` now holds workers that imported `modules`.
    pub(crate) fn holds<'m>(&self, feeder: usize, modules: impl Iterator<Item = &'m String>) {
        if let Ok(mut state) = self.state.lock() {
            let mut libraries: Vec<String> = modules.map(|m| top_level(m).to_string()).collect();
            libraries.sort();
            libraries.dedup();
            state.holding.insert(feeder, libraries);
        }
    }

    /// After a job: `worker` answers the waiting libraries it imported before forking.
    pub(crate) fn answer_warm(&self, worker: &mut Worker) {
        if let Some(job) = self.take_warm(&worker.warm) {
            self.ask(worker, &job);
        }
    }

    /// Feeding thread `feeder` has no job left: `worker`, its last, answers every waiting
    /// library that no other thread still running has imported (that one answers it after
    /// its job, sooner than importing it here would).
    /// Without a worker (it stopped, or died and none replaced it) the thread only stops
    /// holding its libraries: another thread, or the caller, answers them.
    pub(crate) fn leaving(&self, feeder: usize, worker: Option<&mut Worker>) {
        let Some(worker) = worker else {
            if let Ok(mut state) = self.state.lock() {
                state.holding.remove(&feeder);
            }
            return;
        };
        if let Some(job) = self.take_leaving(feeder) {
            self.ask(worker, &job);
        }
    }

    /// The waiting libraries a worker that imported `warm` answers after a job.
    fn take_warm(&self, warm: &[String]) -> Option<ResolveJob> {
        let warm: Vec<&str> = warm.iter().map(|m| top_level(m)).collect();
        self.take(|library, _| library == "builtins" || warm.contains(&library))
    }

    /// The waiting libraries the last worker of `feeder` answers as the thread ends.
    fn take_leaving(&self, feeder: usize) -> Option<ResolveJob> {
        if let Ok(mut state) = self.state.lock() {
            state.holding.remove(&feeder);
        }
        self.take(|library, holding| {
            !holding
                .values()
                .any(|held| held.iter().any(|h| h == library))
        })
    }

    /// Takes the waiting libraries `wanted` chooses, as one job; `None` if none.
    fn take(
        &self,
        wanted: impl Fn(&str, &BTreeMap<usize, Vec<String>>) -> bool,
    ) -> Option<ResolveJob> {
        let mut state = self.state.lock().ok()?;
        let state = &mut *state;
        let (taken, left): (Vec<_>, Vec<_>) = std::mem::take(&mut state.waiting)
            .into_iter()
            .partition(|(library, _)| wanted(library, &state.holding));
        state.waiting = left;
        (!taken.is_empty()).then(|| ResolveJob {
            resolve: taken.into_iter().flat_map(|(_, queries)| queries).collect(),
            ..state.limits.clone()
        })
    }

    fn ask(&self, worker: &mut Worker, job: &ResolveJob) {
        let answered = crate::resolve::ask(worker, job);
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        match answered {
            Ok(answers) => state.answers.extend(answers),
            // The worker failed: the queries wait again, for another worker or for the
            // caller (see [`SideResolve::answers`]).
            Err(_) => wait_by_library(&mut state.waiting, job.resolve.iter().cloned()),
        }
    }
}

/// Adds `queries` to the libraries waiting, each to its library's list.
fn wait_by_library(
    waiting: &mut Vec<(String, Vec<Query>)>,
    queries: impl IntoIterator<Item = Query>,
) {
    for query in queries {
        match waiting.iter_mut().find(|(l, _)| *l == query.library) {
            Some((_, list)) => list.push(query),
            None => waiting.push((query.library.clone(), vec![query])),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use snipcheck_record::ReferenceKind;

    fn query(id: usize, library: &str) -> Query {
        Query {
            id,
            library: library.into(),
            name: format!("{library}.thing"),
            path: None,
            kind: ReferenceKind::Unknown,
            modules: Vec::new(),
            suggest_only: false,
        }
    }

    fn side(libraries: &[&str]) -> SideResolve {
        SideResolve::new(ResolveJob {
            resolve: libraries
                .iter()
                .enumerate()
                .map(|(i, l)| query(i, l))
                .collect(),
            cache_dir: None,
            index_budget_s: 1.0,
            timeout_s: 1.0,
        })
    }

    fn waiting(side: &SideResolve) -> Vec<String> {
        let state = side.state.lock().unwrap();
        state.waiting.iter().map(|(l, _)| l.clone()).collect()
    }

    #[test]
    fn queries_wait_grouped_by_library_and_unasked_ones_are_handed_back() {
        let side = side(&["torch", "sklearn", "torch"]);
        assert_eq!(waiting(&side), ["torch", "sklearn"]);
        let (answers, unasked) = side.answers();
        assert!(answers.is_empty());
        let ids: Vec<usize> = unasked.iter().map(|q| q.id).collect();
        assert_eq!(ids, [0, 2, 1]);
        assert!(waiting(&side).is_empty(), "handed back once");
    }

    fn libraries(job: Option<ResolveJob>) -> Vec<String> {
        let mut taken: Vec<String> = job
            .map(|j| j.resolve.into_iter().map(|q| q.library).collect())
            .unwrap_or_default();
        taken.dedup();
        taken
    }

    #[test]
    fn each_library_is_answered_once_by_a_worker_that_imported_it_if_any_will() {
        let side = side(&["tensorflow", "sklearn", "builtins", "json", "torch"]);
        let tf_worker = [
            "numpy".to_string(),
            "tensorflow".into(),
            "sklearn.datasets".into(),
        ];
        side.holds(0, tf_worker.iter());
        side.holds(
            1,
            ["torch.nn".to_string(), "sklearn.datasets".into()].iter(),
        );
        // Thread 1 finishes a job: its worker answers what it imported, and Python's own.
        let torch_worker = ["torch.nn".to_string(), "sklearn.datasets".into()];
        assert_eq!(
            libraries(side.take_warm(&torch_worker)),
            ["sklearn", "builtins", "torch"]
        );
        // Thread 1 runs out of jobs: it takes json (nobody imported it), not tensorflow,
        // which thread 0 still holds.
        assert_eq!(libraries(side.take_leaving(1)), ["json"]);
        assert_eq!(waiting(&side), ["tensorflow"]);
        assert_eq!(libraries(side.take_warm(&tf_worker)), ["tensorflow"]);
        assert!(side.take_leaving(0).is_none());
        assert!(side.answers().1.is_empty());
    }

    #[test]
    fn the_last_thread_to_leave_takes_every_library_left() {
        let side = side(&["tensorflow", "torch"]);
        side.holds(0, ["tensorflow".to_string()].iter());
        side.holds(1, ["torch".to_string()].iter());
        assert!(side
            .take_leaving(1)
            .is_some_and(|j| j.resolve[0].library == "torch"));
        // Thread 0's worker died before answering tensorflow: leaving, it still takes it.
        assert_eq!(libraries(side.take_leaving(0)), ["tensorflow"]);
    }
}

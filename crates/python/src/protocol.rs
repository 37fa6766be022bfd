//! Messages between the main process and its workers, and between a worker and its
//! forked child: one JSON object per line.

use std::ffi::OsString;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use snipcheck_record::{
    Category, Outcome, PythonInfo, ReferenceKind, ReferenceStatus, SandboxReport, Snippet,
    SnippetError, Verdict,
};

/// Names the libpython the main process preloaded into a worker, for the worker's message
/// when none is loaded.
pub const LIBPYTHON_VARIABLE: &str = "SNIPCHECK_LIBPYTHON";

/// How a worker process is started: `PROGRAM __worker --python-env DIR [--sandbox JSON]
/// [--warmup a,b]`. The pool writes this command line and the worker reads it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WorkerArguments {
    pub env_root: PathBuf,
    /// The sandbox options, as JSON.
    pub sandbox: Option<String>,
    /// Modules imported before any job.
    pub warmup: Vec<String>,
}

/// This build of snipcheck: a worker of another build is refused (see build.rs).
pub const BUILD_ID: &str = env!("SNIPCHECK_BUILD_ID");

impl WorkerArguments {
    /// The first argument that makes a program a worker.
    const SUBCOMMAND: &'static str = "__worker";

    pub fn to_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            Self::SUBCOMMAND.into(),
            "--build".into(),
            BUILD_ID.into(),
            "--python-env".into(),
            self.env_root.clone().into(),
        ];
        if let Some(sandbox) = &self.sandbox {
            args.extend(["--sandbox".into(), sandbox.into()]);
        }
        if !self.warmup.is_empty() {
            args.extend(["--warmup".into(), self.warmup.join(",").into()]);
        }
        args
    }

    /// `None` when the arguments do not start a worker; an error for a worker command line
    /// that is not one the pool writes.
    pub fn parse(args: impl IntoIterator<Item = OsString>) -> Option<Result<Self, String>> {
        let mut args = args.into_iter();
        if args.next()? != Self::SUBCOMMAND {
            return None;
        }
        let (mut env_root, mut sandbox, mut warmup, mut build) = (None, None, Vec::new(), None);
        while let Some(flag) = args.next() {
            let flag = flag.to_string_lossy().into_owned();
            let Some(value) = args.next() else {
                return Some(Err(format!("{flag} needs a value")));
            };
            match flag.as_str() {
                "--python-env" => env_root = Some(PathBuf::from(value)),
                "--sandbox" => sandbox = Some(value.to_string_lossy().into_owned()),
                "--build" => build = Some(value.to_string_lossy().into_owned()),
                "--warmup" => warmup.extend(
                    value
                        .to_string_lossy()
                        .split(',')
                        .filter(|m| !m.is_empty())
                        .map(String::from),
                ),
                _ => return Some(Err(format!("unexpected argument {flag}"))),
            }
        }
        if build.as_deref() != Some(BUILD_ID) {
            return Some(Err(format!(
                "this snipcheck-worker ({}) is from another build than the snipcheck that \
                 started it (build {} asked for, this is {BUILD_ID}): build both again \
                 (`cargo build`) or reinstall snipcheck",
                std::env::current_exe().unwrap_or_default().display(),
                build.as_deref().unwrap_or("none")
            )));
        }
        Some(match env_root {
            Some(env_root) => Ok(WorkerArguments {
                env_root,
                sandbox,
                warmup,
            }),
            None => Err("--python-env is required".into()),
        })
    }
}

/// How much snippets are kept apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Isolation {
    /// One child per document: snippets run in order, each in a fresh namespace; a crash
    /// or timeout costs a new child for the rest.
    #[default]
    Document,
    /// One child per snippet.
    Snippet,
    /// As `Document`, but a document whose snippets pass nothing to each other outside
    /// their namespaces is cut into the groups of snippets that use the same libraries (see
    /// `pool`): the groups run at once, in children of their own, each in document order.
    Library,
}

/// Work for a worker: run `snippets[start..]` of one document, in order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    /// Identifies the job in the replies.
    pub job: usize,
    pub snippets: Vec<Snippet>,
    /// Index of the first snippet to run: a job is resumed after a worker died.
    #[serde(default)]
    pub start: usize,
    /// Per-snippet time limit, in seconds.
    pub timeout_s: f64,
    #[serde(default)]
    pub isolate: Isolation,
    /// The setup fixtures its snippets name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixtures: Vec<Fixture>,
    /// Run each snippet only once the previous verdict has reached the main process. Set
    /// when a job resumes after its worker died: the verdicts that worker had not passed on
    /// yet died with it, so only a step-by-step rerun tells which snippet killed it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub confirmed: bool,
    /// The job's writable folders, made by the main process so that a job resumed in a new
    /// worker keeps the files its first snippets wrote. `None`: the worker makes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folders: Option<crate::sandbox::Folders>,
}

impl Job {
    /// Whether a snippet of the job runs through doctest (`needs_doctest` in `snippet.py`,
    /// which loads the doctest runner in the child when the worker has not).
    pub(crate) fn needs_doctest(&self) -> bool {
        self.snippets.iter().any(|s| {
            s.kind == snipcheck_record::SnippetKind::Doctest
                || s.expected_output.is_some()
                || !s.options.is_empty()
                || s.object.is_some()
        })
    }
}

/// A setup fixture: Python code run in a snippet's fresh namespace before the snippet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fixture {
    /// The name snippets and the config use for it.
    pub name: String,
    /// Its file, as displayed (tracebacks and messages name it).
    pub path: String,
    pub code: String,
}

/// What the resolver is asked and answers: names of the prose checked in a worker.
/// One name to look up in one library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Query {
    /// Identifies the answer.
    pub id: usize,
    /// Import name of the library (`sklearn`); `builtins` for Python's own names.
    pub library: String,
    /// The name as written (`Imputer`, `nn.RNN`).
    pub name: String,
    /// Fully qualified path to check directly (`torch.nn.RNN`); `None` to search the
    /// library's public modules for `name`.
    #[serde(default)]
    pub path: Option<String>,
    pub kind: ReferenceKind,
    /// Modules where the name is likely to live, for ranking suggestions.
    #[serde(default)]
    pub modules: Vec<String>,
    /// The name is known not to exist at `path` (a failed import): only suggest.
    #[serde(default)]
    pub suggest_only: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub id: usize,
    /// `resolved`, `unresolved` or `unchecked`.
    pub status: ReferenceStatus,
    /// The public home where it resolved.
    pub resolved: Option<String>,
    /// Real names it may mean, best first.
    #[serde(default)]
    pub suggestions: Vec<String>,
    /// Why it is unchecked, or a caveat (a partial index).
    pub reason: Option<String>,
    /// Whether the library (the path's first part) is an installed module at all.
    #[serde(default)]
    pub module_found: bool,
    /// Unchecked because the library is not installed: true for as long as the environment
    /// stays as it is, unlike a time limit or a crash.
    #[serde(default)]
    pub not_installed: bool,
    /// How close the first suggestion is (0 to 2), to choose between libraries.
    #[serde(default)]
    pub score: f64,
    /// The first suggestion is a near miss: the name is a typo of it (a few edits away,
    /// fewer for short names).
    #[serde(default)]
    pub near: bool,
}

/// The request line a worker receives.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResolveJob {
    pub resolve: Vec<Query>,
    /// Where symbol indexes are cached; nothing is cached without it.
    pub cache_dir: Option<PathBuf>,
    /// Time allowed for walking one library's modules to build its index.
    pub index_budget_s: f64,
    /// Time allowed for one library altogether (import, index, lookups).
    pub timeout_s: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub(crate) enum ResolveMessage {
    Answer { answer: Answer },
    Done,
}

/// A line the main process sends a worker: snippets to run, or names to resolve.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Request {
    Resolve(ResolveJob),
    Run(Job),
}

/// What a worker tells the main process. Externally tagged (`{"finished": {...}}`), as is
/// [`ChildMessage`]: an internally tagged message is buffered whole before it is read, and
/// these come once per snippet.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkerMessage {
    /// The interpreter is up and the warm-up imports are done.
    Ready {
        python: PythonInfo,
        sandbox: SandboxReport,
    },
    /// A snippet's verdict.
    Finished {
        job: usize,
        index: usize,
        verdict: Verdict,
    },
    /// A snippet has been running for a while (not yet at its limit).
    Slow {
        job: usize,
        index: usize,
        seconds: f64,
    },
    /// Every snippet of the job has a verdict.
    Done { job: usize },
    /// The worker cannot go on (the interpreter did not start, say).
    Fatal { message: String },
}

/// What a forked child tells its worker: a snippet's verdict. The next snippet starts when
/// it is sent, so no message says that one has started (a message per snippet less to
/// write, wake the worker for and read).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChildMessage {
    pub index: usize,
    pub verdict: Box<Verdict>,
    /// The child ends after this snippet, before running the next (it left threads
    /// running): the next has not started, whatever ends the child.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub then_stops: bool,
}

/// A snippet's time limit: its own (a `timeout` marker), else the job's.
pub(crate) fn time_limit(snippet: &Snippet, default_s: f64) -> f64 {
    snippet.timeout.unwrap_or(default_s)
}

/// A failed outcome that never reached Python (timeouts, crashes, lost workers, the
/// runner's own errors): a pseudo exception `kind` and a message, no line.
pub(crate) fn failure(
    category: Category,
    kind: &str,
    message: String,
    duration_ms: f64,
) -> Outcome {
    Outcome::failed(
        category,
        SnippetError {
            kind: kind.into(),
            message,
            line: None,
            traceback: None,
        },
        duration_ms,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_arguments_read_back_as_written() {
        let written = WorkerArguments {
            env_root: PathBuf::from("/envs/a b"),
            sandbox: Some(r#"{"network":false}"#.into()),
            warmup: vec!["numpy".into(), "json".into()],
        };
        assert_eq!(WorkerArguments::parse(written.to_args()), Some(Ok(written)));
        let other = ["check".into(), "guide.md".into()];
        assert_eq!(WorkerArguments::parse(other), None);
        let bad = ["__worker".into(), "--jobs".into(), "2".into()];
        assert!(WorkerArguments::parse(bad).unwrap().is_err());
    }

    #[test]
    fn a_worker_of_another_build_is_refused() {
        let args: Vec<OsString> = ["__worker", "--build", "0123", "--python-env", "/envs/a"]
            .map(OsString::from)
            .into();
        let err = WorkerArguments::parse(args).unwrap().unwrap_err();
        assert!(err.contains("another build"), "{err}");
    }
}

//! Running a check: the snippets the result cache cannot answer go to the worker pool and
//! the prose's names to a resolving worker, both at once; what they learn goes back into the
//! cache, so a re-run over unchanged documents starts no interpreter at all.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use snipcheck_cache::ResultCache;
use snipcheck_python::pool::SideResolve;
use snipcheck_python::protocol::{Answer, Query};
use snipcheck_python::resolve::ResolveOptions;
use snipcheck_python::{
    interpreters, venv, Cancel, DocumentJob, Fixture, PoolOptions, PoolResult, Progress, PythonEnv,
    Session,
};
use snipcheck_record::{Category, Checked, Outcome, PythonInfo, SandboxReport, Snippet, Verdict};

use crate::config::{LoadedConfig, DEFAULT_TIMEOUT_S};
use crate::fixtures::Fixtures;
use crate::observer::Observer;
use crate::options::CheckOptions;
use crate::references;
use crate::suggest;

/// What running the snippets and resolving the names produced.
#[derive(Default)]
pub struct Execution {
    pub python: Option<PythonInfo>,
    pub sandbox: Option<SandboxReport>,
    /// Every snippet with its verdict, in document order.
    pub results: Vec<Checked>,
    pub answers: Vec<Answer>,
    pub interrupted: bool,
    /// Snippets answered from the cache, and snippets run.
    pub cached: usize,
    pub ran: usize,
}

/// Runs `snippets` (per document) on the session's workers and resolves `queries`.
pub fn execute(
    (session, cancel): (&Session, &Cancel),
    options: &CheckOptions,
    loaded: &LoadedConfig,
    mut snippets: Vec<Vec<Snippet>>,
    fixtures: &Fixtures,
    queries: &[Query],
    observer: &mut dyn Observer,
) -> Result<Execution> {
    if snippets.iter().all(Vec::is_empty) && queries.is_empty() {
        return Ok(Execution::default());
    }
    let cache_dir = loaded.cache_dir(options.cache_dir.as_deref());
    let (pool, timeout_s) = pool_options(options, loaded, &cache_dir, observer)?;
    let mut cache = Cache::open(
        &cache_dir,
        !options.no_cache,
        &pool,
        timeout_s,
        fixtures.all(),
    )?
    .evicting(loaded.config.cache.eviction());
    for warning in cache.store.warnings() {
        observer.warning(warning);
    }

    // What the cache knows needs no interpreter. Boxed: a large run with few remembered
    // verdicts holds a pointer per snippet here, not a verdict's worth of room.
    let verdicts: Vec<Vec<Option<Box<Verdict>>>> = snippets
        .iter()
        .map(|document| {
            document
                .iter()
                .map(|s| cache.verdict(s).map(Box::new))
                .collect()
        })
        .collect();
    let mut answers: Vec<Option<Answer>> = queries.iter().map(|q| cache.answer(q)).collect();
    let mut execution = Execution {
        cached: verdicts.iter().flatten().filter(|v| v.is_some()).count(),
        ..Execution::default()
    };

    // The rest runs: per document, the snippets without a remembered verdict, in order.
    let pending: Vec<Vec<usize>> = verdicts
        .iter()
        .map(|known| (0..known.len()).filter(|&i| known[i].is_none()).collect())
        .collect();
    let to_resolve: Vec<Query> = queries
        .iter()
        .zip(&answers)
        .filter(|(_, a)| a.is_none())
        .map(|(q, _)| q.clone())
        .collect();
    execution.ran = pending.iter().map(Vec::len).sum();
    // The snippets that ran with their verdicts, in document order.
    let mut results: Vec<Checked> = Vec::new();
    if execution.ran > 0 || !to_resolve.is_empty() {
        // The snippets to run move into the jobs, then into the results: a large run holds
        // each snippet once.
        let jobs: Vec<DocumentJob> = pending
            .iter()
            .zip(&mut snippets)
            .map(|(positions, document)| {
                let snippets: Vec<Snippet> = positions
                    .iter()
                    .map(|&i| std::mem::take(&mut document[i]))
                    .collect();
                DocumentJob {
                    fixtures: fixtures.for_document(&snippets),
                    snippets,
                    timeout_s,
                }
            })
            .collect();
        if execution.cached == 0 {
            // Every snippet moved into the jobs: what is left is room for none.
            snippets = Vec::new();
        }
        let resolving = resolve_options(loaded, &cache_dir, &pool, timeout_s);
        let (ran, fresh_answers) = run_pool(
            (session, cancel),
            &pool,
            &resolving,
            &jobs,
            &to_resolve,
            observer,
        )?;
        if ran.cancelled {
            // Incomplete, and stale to the caller: nothing of it is kept.
            return Err(crate::check::Cancelled.into());
        }
        execution.python = ran.python;
        execution.sandbox = ran.sandbox;
        execution.interrupted = ran.interrupted;
        results.reserve_exact(execution.ran);
        for (job, outcomes) in jobs.into_iter().zip(ran.outcomes) {
            let checked = job.snippets.into_iter().zip(outcomes);
            results.extend(checked.map(|(snippet, verdict)| Checked { snippet, verdict }));
        }

        // Suggestions for `missing-name` failures come from the same symbol index.
        let asked = suggest::index_queries(&results);
        let mut suggested = Vec::new();
        if !asked.is_empty() && !execution.interrupted {
            let queries: Vec<_> = asked.iter().map(|(_, q)| q.clone()).collect();
            suggested = references::resolve(&resolving, &queries);
        }
        suggest::close_names(&mut results, &asked, &suggested);
        for result in &results {
            cache.remember(&result.snippet, &result.verdict);
        }
        let mut fresh_answers = fresh_answers.into_iter();
        for (query, slot) in queries.iter().zip(answers.iter_mut()) {
            if slot.is_none() {
                if let Some(answer) = fresh_answers.next() {
                    cache.remember_answer(query, &answer);
                    *slot = Some(answer);
                }
            }
        }
        if let (Some(python), Some(sandbox)) = (&execution.python, &execution.sandbox) {
            cache.remember_interpreter(python, sandbox);
        }
    } else {
        // Nothing ran: the record still says which interpreter and protections the
        // remembered verdicts came from.
        if let Some((python, sandbox)) = cache.interpreter() {
            execution.python = Some(python);
            execution.sandbox = Some(sandbox);
        }
    }
    // Also after a warm run: the verdicts it read are marked used, now and then.
    if let Err(err) = cache.save() {
        observer.warning(&format!("cannot save the result cache: {err}"));
    }
    execution.results = in_document_order(snippets, verdicts, results);
    execution.answers = answers.into_iter().flatten().collect();
    Ok(execution)
}

/// Every snippet with its verdict, in document order: the remembered ones (`known`, in
/// place in `snippets`) and, in the gaps, those that ran (`ran`, in document order). A run
/// that remembered nothing is `ran` itself, with no second copy of it (and `snippets` may
/// then be empty: every one of them ran).
fn in_document_order(
    snippets: Vec<Vec<Snippet>>,
    known: Vec<Vec<Option<Box<Verdict>>>>,
    ran: Vec<Checked>,
) -> Vec<Checked> {
    if known.iter().flatten().all(Option::is_none) {
        return ran;
    }
    let mut ran = ran.into_iter();
    snippets
        .into_iter()
        .zip(known)
        .flat_map(|(document, known)| document.into_iter().zip(known))
        .map(|(snippet, known)| match known {
            Some(verdict) => Checked {
                snippet,
                verdict: *verdict,
            },
            // The pool reports one verdict per snippet, so every gap has its result.
            None => ran.next().unwrap_or_else(|| Checked {
                snippet,
                verdict: Outcome::clean(Category::Skipped, 0.0).into(),
            }),
        })
        .collect()
}

/// How the workers are started, and the per-snippet time limit: the options, else the
/// config, else the defaults.
fn pool_options(
    options: &CheckOptions,
    loaded: &LoadedConfig,
    cache_dir: &Path,
    observer: &mut dyn Observer,
) -> Result<(PoolOptions, f64)> {
    let timeout_s = options
        .timeout
        .or(loaded.config.timeout)
        .unwrap_or(DEFAULT_TIMEOUT_S);
    let program = match &options.worker_program {
        Some(program) => program.clone(),
        None => snipcheck_python::worker_process::default_worker_program()?,
    };
    let pool = PoolOptions {
        program,
        workers: options
            .jobs
            .or(loaded.config.jobs)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        warmup: loaded.config.python.warmup.clone(),
        isolate: options
            .isolate
            .or(loaded.config.isolate)
            .unwrap_or_default()
            .into(),
        sandbox: loaded.config.sandbox.options(),
        env_allow: loaded.config.sandbox.env_allow.clone(),
        env: environment(options, loaded, cache_dir, observer)?,
    };
    Ok((pool, timeout_s))
}

/// Runs the jobs in the pool while a worker of its own resolves the names; returns the
/// pool's verdicts and the resolver's answers.
fn run_pool(
    (session, cancel): (&Session, &Cancel),
    options: &PoolOptions,
    resolving: &ResolveOptions,
    jobs: &[DocumentJob],
    queries: &[Query],
    observer: &mut dyn Observer,
) -> Result<(PoolResult, Vec<Answer>)> {
    let total: usize = jobs.iter().map(|j| j.snippets.len()).sum();
    if total > 0 {
        observer.running(
            total,
            jobs.iter().filter(|j| !j.snippets.is_empty()).count(),
        );
    }
    snipcheck_python::interrupt::handle_interrupts();
    let nothing_to_run = PoolResult {
        python: None,
        sandbox: None,
        outcomes: jobs.iter().map(|_| Vec::new()).collect(),
        interrupted: false,
        cancelled: false,
    };
    // With a job for every worker, no core is idle for a resolver of its own, which would
    // import the libraries once more: the workers answer the names between their jobs
    // instead. Otherwise the resolver runs beside them, on a core of its own.
    let on_a_worker = (!queries.is_empty()
        && snipcheck_python::pool::has_a_job_per_worker(options, jobs))
    .then(|| SideResolve::new(snipcheck_python::resolve::job(resolving, queries)));
    let (result, answers) = std::thread::scope(|scope| {
        let resolver = on_a_worker
            .is_none()
            .then(|| scope.spawn(|| references::resolve(resolving, queries)));
        let result = (total > 0).then(|| {
            let progress = |event: Progress<'_>| match event {
                Progress::Verdict { snippet, .. } => observer.verdict(snippet),
                Progress::Slow {
                    snippet,
                    seconds,
                    limit,
                } => observer.slow(snippet, seconds, limit),
            };
            let side = on_a_worker.as_ref();
            snipcheck_python::pool::run_in(session, cancel, options, jobs, side, progress)
        });
        (result, resolver.map(|r| r.join().unwrap_or_default()))
    });
    observer.ran();
    let result = result.transpose()?.unwrap_or(nothing_to_run);
    let answers = match (answers, on_a_worker) {
        (Some(answers), _) => answers,
        (None, Some(side)) => {
            let (mut answered, unasked) = side.answers();
            // No worker took these: the run was cut short (a cancelled run reports
            // nothing anyway), or no worker was left to ask.
            if !unasked.is_empty() && !result.interrupted && !result.cancelled {
                let late = references::resolve(resolving, &unasked);
                answered.extend(late.into_iter().map(|answer| (answer.id, answer)));
            }
            snipcheck_python::resolve::in_order(queries, answered)
        }
        (None, None) => Vec::new(),
    };
    Ok((result, answers))
}

/// The result cache as a run sees it: keys include the environment and the settings that
/// change verdicts. With `--no-cache` nothing is read, but fresh results are still kept.
struct Cache {
    store: ResultCache,
    read: bool,
    /// Each fixture's name and code: editing a fixture must run its snippets again.
    fixtures: Vec<(String, String)>,
}

/// Which interpreter and protections the remembered verdicts came from.
#[derive(Serialize, Deserialize)]
struct Interpreter {
    python: PythonInfo,
    sandbox: SandboxReport,
}

impl Cache {
    fn open(
        dir: &Path,
        read: bool,
        pool: &PoolOptions,
        timeout_s: f64,
        fixtures: &[Fixture],
    ) -> Result<Cache> {
        let settings = serde_json::json!({
            "timeout": timeout_s,
            "isolate": format!("{:?}", pool.isolate),
            "sandbox": pool.sandbox,
            "env_allow": pool.env_allow,
        });
        Ok(Cache {
            store: ResultCache::open(dir, &pool.env.fingerprint()?, &settings.to_string()),
            read,
            fixtures: fixtures
                .iter()
                .map(|f| (f.name.clone(), f.code.clone()))
                .collect(),
        })
    }

    /// The same cache, evicting by `eviction` when it writes.
    fn evicting(self, eviction: snipcheck_cache::Eviction) -> Cache {
        Cache {
            store: self.store.evicting(eviction),
            ..self
        }
    }

    /// The fixtures `snippet` runs with, by name and code.
    fn fixtures_of(&self, snippet: &Snippet) -> Vec<(String, String)> {
        self.fixtures
            .iter()
            .filter(|(name, _)| snippet.fixtures.contains(name))
            .cloned()
            .collect()
    }

    fn verdict(&self, snippet: &Snippet) -> Option<Verdict> {
        self.read
            .then(|| self.store.verdict(snippet, &self.fixtures_of(snippet)))
            .flatten()
    }

    fn remember(&mut self, snippet: &Snippet, verdict: &Verdict) {
        let fixtures = self.fixtures_of(snippet);
        self.store.remember(snippet, &fixtures, verdict);
    }

    /// A query as a question for the cache: without its id, which is only its place in
    /// this run's list.
    fn question(query: &Query) -> serde_json::Value {
        let mut question = serde_json::to_value(query).unwrap_or_default();
        if let Some(fields) = question.as_object_mut() {
            fields.remove("id");
        }
        question
    }

    fn answer(&self, query: &Query) -> Option<Answer> {
        if !self.read {
            return None;
        }
        let mut answer: Answer = self.store.answer(&Self::question(query))?;
        answer.id = query.id;
        Some(answer)
    }

    fn remember_answer(&mut self, query: &Query, answer: &Answer) {
        // "Could not check" depends on the moment (a time limit, a crash): ask again later.
        // A library that is not installed stays so until the environment changes, which
        // changes the key; asking again would start a worker on every run (on every edit,
        // in the language server).
        if answer.status == snipcheck_record::ReferenceStatus::Unchecked && !answer.not_installed {
            return;
        }
        self.store.remember_answer(&Self::question(query), answer);
    }

    fn remember_interpreter(&mut self, python: &PythonInfo, sandbox: &SandboxReport) {
        let interpreter = Interpreter {
            python: python.clone(),
            sandbox: sandbox.clone(),
        };
        self.store.remember_answer(&"interpreter", &interpreter);
    }

    fn interpreter(&self) -> Option<(PythonInfo, SandboxReport)> {
        let Interpreter { python, sandbox } = self.store.answer(&"interpreter")?;
        Some((python, sandbox))
    }

    fn save(&mut self) -> std::io::Result<()> {
        self.store.save()
    }
}

/// The environment snippets run in: the one given (`--python-env`, the config's `env`), one
/// built from the config's requirements, else, as pytest would, the virtualenv that is
/// active (`VIRTUAL_ENV`) or that snipcheck is installed in, else a standard-library one.
/// An active or installed virtualenv is said to the observer: nothing in the config named it.
pub fn environment(
    options: &CheckOptions,
    loaded: &LoadedConfig,
    cache_dir: &Path,
    observer: &mut dyn Observer,
) -> Result<PythonEnv> {
    if let Some(path) = &options.python_env {
        return venv::existing(path);
    }
    if let Some(path) = &loaded.config.python.env {
        return venv::existing(&loaded.resolve(path));
    }
    let asked = match options
        .python
        .as_deref()
        .or(loaded.config.python.version.as_deref())
    {
        Some(text) => Some(interpreters::Version::parse(text).with_context(|| {
            format!("the Python version {text:?} is not a version such as 3.12")
        })?),
        None => None,
    };
    let requirements = loaded
        .config
        .python
        .requirements
        .as_ref()
        .map(|p| loaded.resolve(p));
    if requirements.is_none() {
        if let Some(active) = venv::active() {
            let env = venv::existing(&active.root)?;
            let version = env.version()?;
            if asked.is_none_or(|asked| asked == version) {
                observer.environment(&format!(
                    "the snippets run in {} ({}, Python {version})",
                    env.root.display(),
                    active.why,
                ));
                return Ok(env);
            }
        }
    }
    let base = interpreters::find(asked)?;
    venv::from_requirements(requirements.as_deref(), cache_dir, &base)
}

/// How names are resolved: one worker on the snippets' environment, its symbol indexes
/// cached per environment, each library allowed its index budget on top of the snippet
/// time limit (importing TensorFlow alone takes seconds).
fn resolve_options(
    loaded: &LoadedConfig,
    cache_dir: &Path,
    pool: &PoolOptions,
    timeout_s: f64,
) -> ResolveOptions {
    let budget = loaded
        .config
        .references
        .index_budget
        .unwrap_or(references::DEFAULT_INDEX_BUDGET_S);
    let cache = pool
        .env
        .fingerprint()
        .ok()
        .map(|fingerprint| cache_dir.join("index").join(fingerprint));
    ResolveOptions {
        worker: PoolOptions {
            workers: 1,
            warmup: Some(Vec::new()),
            ..pool.clone()
        },
        cache_dir: cache,
        index_budget_s: budget,
        timeout_s: timeout_s.max(DEFAULT_TIMEOUT_S) + budget,
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use snipcheck_python::SandboxOptions;
    use snipcheck_record::ReferenceStatus;

    use super::*;
    use crate::observer::Silent;

    fn snippet(id: &str, line: u32, code: &str) -> Snippet {
        Snippet {
            id: id.into(),
            path: "guide.md".into(),
            line,
            end_line: line + 2,
            code: code.into(),
            ..Snippet::default()
        }
    }

    fn pool(env: &Path) -> PoolOptions {
        PoolOptions {
            program: PathBuf::from("/nonexistent/worker"),
            env: PythonEnv {
                root: env.to_path_buf(),
            },
            workers: 1,
            warmup: None,
            isolate: Default::default(),
            sandbox: SandboxOptions::default(),
            env_allow: Vec::new(),
        }
    }

    fn fixture(name: &str, code: &str) -> Fixture {
        Fixture {
            name: name.into(),
            path: format!("{name}.py"),
            code: code.into(),
        }
    }

    #[test]
    fn remembered_and_fresh_verdicts_come_back_in_document_order() {
        let verdict = |ms: f64| -> Verdict { Outcome::clean(Category::Passed, ms).into() };
        let checked = |id: &str, ms: f64| Checked {
            snippet: snippet(id, 1, "pass\n"),
            verdict: verdict(ms),
        };
        // Document 0: a ran, b remembered; document 1: c remembered, d ran.
        let snippets = vec![
            vec![Snippet::default(), snippet("b", 1, "pass\n")],
            vec![snippet("c", 1, "pass\n"), Snippet::default()],
        ];
        let known = vec![
            vec![None, Some(Box::new(verdict(2.0)))],
            vec![Some(Box::new(verdict(3.0))), None],
        ];
        let ran = vec![checked("a", 1.0), checked("d", 4.0)];
        let order: Vec<(String, f64)> = in_document_order(snippets, known, ran.clone())
            .into_iter()
            .map(|c| (c.snippet.id, c.verdict.outcome.duration_ms))
            .collect();
        let expected = [("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 4.0)];
        assert_eq!(order, expected.map(|(id, ms)| (id.to_string(), ms)));
        // Nothing remembered: the fresh results as they are.
        let hollow = vec![vec![Snippet::default(); 2]];
        assert_eq!(
            in_document_order(hollow, vec![vec![None, None]], ran.clone()),
            ran
        );
    }

    #[test]
    fn a_verdict_follows_its_snippet_but_not_an_edit() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = Cache::open(dir.path(), true, &pool(dir.path()), 5.0, &[]).unwrap();
        let passed: Verdict = Outcome::clean(Category::Passed, 1.0).into();
        cache.remember(&snippet("a", 3, "x = 1\n"), &passed);
        // Moved and renamed: the same code under the same settings.
        let moved = cache.verdict(&snippet("b", 40, "x = 1\n")).unwrap();
        assert_eq!(moved.outcome.category, Category::Passed);
        assert!(cache.verdict(&snippet("a", 3, "x = 2\n")).is_none());
        // Another time limit is another key.
        let other = Cache::open(dir.path(), true, &pool(dir.path()), 9.0, &[]).unwrap();
        cache.save().unwrap();
        assert!(other.verdict(&snippet("a", 3, "x = 1\n")).is_none());
        let reopened = Cache::open(dir.path(), true, &pool(dir.path()), 5.0, &[]).unwrap();
        assert!(reopened.verdict(&snippet("a", 3, "x = 1\n")).is_some());
    }

    #[test]
    fn editing_a_fixture_forgets_only_the_snippets_that_use_it() {
        let dir = tempfile::tempdir().unwrap();
        let open = |code: &str| {
            let fixtures = [fixture("data", code), fixture("other", "y = 0\n")];
            Cache::open(dir.path(), true, &pool(dir.path()), 5.0, &fixtures).unwrap()
        };
        let mut uses = snippet("a", 1, "print(x)\n");
        uses.fixtures = vec!["data".into()];
        let plain = snippet("b", 9, "print(1)\n");
        let mut cache = open("x = 1\n");
        let passed: Verdict = Outcome::clean(Category::Passed, 1.0).into();
        cache.remember(&uses, &passed);
        cache.remember(&plain, &passed);
        cache.save().unwrap();
        let edited = open("x = 2\n");
        assert!(edited.verdict(&uses).is_none());
        assert!(edited.verdict(&plain).is_some());
    }

    #[test]
    fn without_reading_nothing_is_answered_but_everything_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut blind = Cache::open(dir.path(), false, &pool(dir.path()), 5.0, &[]).unwrap();
        let s = snippet("a", 1, "pass\n");
        blind.remember(&s, &Outcome::clean(Category::Passed, 1.0).into());
        assert!(blind.verdict(&s).is_none());
        blind.save().unwrap();
        let reading = Cache::open(dir.path(), true, &pool(dir.path()), 5.0, &[]).unwrap();
        assert!(reading.verdict(&s).is_some());
    }

    #[test]
    fn answers_are_kept_by_question_and_unchecked_ones_are_asked_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = Cache::open(dir.path(), true, &pool(dir.path()), 5.0, &[]).unwrap();
        let query = |id, name: &str| Query {
            id,
            library: "json".into(),
            name: name.into(),
            path: Some(format!("json.{name}")),
            kind: snipcheck_record::ReferenceKind::Function,
            modules: vec!["json".into()],
            suggest_only: false,
        };
        let answer = |status| Answer {
            id: 0,
            status,
            resolved: None,
            suggestions: Vec::new(),
            reason: None,
            module_found: true,
            not_installed: false,
            score: 0.0,
            near: false,
        };
        cache.remember_answer(&query(0, "loads"), &answer(ReferenceStatus::Resolved));
        cache.remember_answer(&query(1, "parse"), &answer(ReferenceStatus::Unchecked));
        let not_installed = Answer {
            not_installed: true,
            ..answer(ReferenceStatus::Unchecked)
        };
        cache.remember_answer(&query(2, "dump"), &not_installed);
        // The same question under another position in this run's list.
        let again = cache.answer(&query(7, "loads")).unwrap();
        assert_eq!((again.id, again.status), (7, ReferenceStatus::Resolved));
        assert!(cache.answer(&query(1, "parse")).is_none());
        // A library that is not installed stays so until the environment changes.
        assert_eq!(
            cache.answer(&query(3, "dump")).unwrap().status,
            ReferenceStatus::Unchecked
        );
    }

    #[test]
    fn remembered_verdicts_need_no_worker_and_the_rest_do() {
        let env = shared_environment();
        let dir = tempfile::tempdir().unwrap();
        let options = CheckOptions {
            python_env: Some(env),
            cache_dir: Some(dir.path().to_path_buf()),
            worker_program: Some(PathBuf::from("/nonexistent/worker")),
            ..CheckOptions::default()
        };
        let loaded = LoadedConfig::default();
        let (pool, timeout_s) =
            pool_options(&options, &loaded, dir.path(), &mut crate::Silent).unwrap();
        let known = snippet("a", 1, "x = 1\n");
        let mut cache = Cache::open(dir.path(), true, &pool, timeout_s, &[]).unwrap();
        cache.remember(&known, &Outcome::clean(Category::Passed, 1.0).into());
        cache.save().unwrap();

        let run = |options: &CheckOptions, snippets: Vec<Snippet>| {
            let fixtures = Fixtures::default();
            execute(
                (&Session::new(), &Cancel::default()),
                options,
                &loaded,
                vec![snippets],
                &fixtures,
                &[],
                &mut Silent,
            )
        };
        let execution = run(&options, vec![known.clone()]).unwrap();
        assert_eq!((execution.cached, execution.ran), (1, 0));
        assert_eq!(
            execution.results[0].verdict.outcome.category,
            Category::Passed
        );

        // A snippet the cache does not know, or any with `no_cache`, needs the worker.
        let unknown = snippet("b", 5, "x = 2\n");
        let err = run(&options, vec![known.clone(), unknown]).err().unwrap();
        assert!(
            format!("{err:#}").contains("/nonexistent/worker"),
            "{err:#}"
        );
        let fresh = CheckOptions {
            no_cache: true,
            ..options.clone()
        };
        assert!(run(&fresh, vec![known]).is_err());
    }

    /// A standard-library environment shared by the tests of this crate.
    fn shared_environment() -> PathBuf {
        let cache = std::env::temp_dir().join("snipcheck-check-tests");
        let base = interpreters::find(None).expect("a python3 on PATH");
        venv::from_requirements(None, &cache, &base)
            .expect("a standard-library environment")
            .root
    }
}

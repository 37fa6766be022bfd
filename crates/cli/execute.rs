//! Running a check: the snippets the result cache cannot answer go to the worker pool and
//! the prose's names to a resolving worker, both at once; what they learn goes back into the
//! cache, so a re-run over unchanged documents starts no interpreter at all.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use snipcheck_cache::{value_key, KeyParts, ResultCache};
use snipcheck_python::resolve::{Answer, Query, ResolveOptions};
use snipcheck_python::{venv, DocumentJob, PoolOptions, Progress, PythonEnv};
use snipcheck_record::{Category, Outcome, PythonInfo, SandboxReport, Snippet, SnippetRecord};

use crate::args::{CheckArgs, IsolateArg};
use crate::config::{LoadedConfig, DEFAULT_TIMEOUT_S};
use crate::fixtures::Fixtures;
use crate::progress::ProgressBar;
use crate::references;

/// What running the snippets and resolving the names produced.
#[derive(Default)]
pub struct Execution {
    pub python: Option<PythonInfo>,
    pub sandbox: Option<SandboxReport>,
    pub records: Vec<SnippetRecord>,
    pub answers: Vec<Answer>,
    pub interrupted: bool,
    /// Snippets answered from the cache, and snippets run.
    pub cached: usize,
    pub ran: usize,
}

/// Runs `snippets` (per document) and resolves `queries`.
pub fn execute(
    args: &CheckArgs,
    loaded: &LoadedConfig,
    snippets: Vec<Vec<Snippet>>,
    fixtures: &Fixtures,
    queries: &[Query],
) -> Result<Execution> {
    if snippets.iter().all(Vec::is_empty) && queries.is_empty() {
        return Ok(Execution::default());
    }
    let timeout_s = args
        .timeout
        .or(loaded.config.timeout)
        .unwrap_or(DEFAULT_TIMEOUT_S);
    let options = PoolOptions {
        program: std::env::current_exe().context("cannot find the snipcheck binary")?,
        workers: args
            .jobs
            .or(loaded.config.jobs)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        warmup: loaded.config.python.warmup.clone(),
        isolate: args
            .isolate
            .or(loaded.config.isolate)
            .unwrap_or(IsolateArg::Document)
            .into(),
        sandbox: loaded.config.sandbox.options(),
        env_allow: loaded.config.sandbox.env_allow.clone(),
        env: environment(args, loaded)?,
    };
    let mut cache = Cache::open(args, loaded, &options, timeout_s, fixtures)?;

    // What the cache knows needs no interpreter.
    let mut outcomes: Vec<Vec<Option<Outcome>>> = snippets
        .iter()
        .map(|document| document.iter().map(|s| cache.outcome(s)).collect())
        .collect();
    let mut answers: Vec<Option<Answer>> = queries.iter().map(|q| cache.answer(q)).collect();
    let mut execution = Execution {
        cached: outcomes.iter().flatten().filter(|o| o.is_some()).count(),
        ..Execution::default()
    };

    // The rest runs: per document, the snippets without a remembered verdict, in order.
    let pending: Vec<Vec<usize>> = outcomes
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
    if execution.ran > 0 || !to_resolve.is_empty() {
        let jobs: Vec<DocumentJob> = pending
            .iter()
            .zip(&snippets)
            .map(|(positions, document)| {
                let snippets: Vec<Snippet> =
                    positions.iter().map(|&i| document[i].clone()).collect();
                DocumentJob {
                    fixtures: fixtures.for_document(&snippets),
                    snippets,
                    timeout_s,
                }
            })
            .collect();
        let resolving = resolve_options(args, loaded, &options, timeout_s);
        let fresh = run_pool(args, &options, &resolving, jobs, &to_resolve)?;
        execution.python = fresh.python;
        execution.sandbox = fresh.sandbox;
        execution.interrupted = fresh.interrupted;

        let mut places = Vec::new();
        let mut records = Vec::new();
        for (document, (positions, ran)) in pending.iter().zip(fresh.outcomes).enumerate() {
            for (&position, outcome) in positions.iter().zip(ran) {
                places.push((document, position));
                records.push(SnippetRecord {
                    snippet: snippets[document][position].clone(),
                    outcome,
                });
            }
        }
        // Suggestions for `missing-name` failures come from the same symbol index.
        let asked = references::missing_names(&records);
        if !asked.is_empty() && !execution.interrupted {
            let queries: Vec<_> = asked.iter().map(|(_, q)| q.clone()).collect();
            let suggested = references::resolve(&resolving, &queries);
            references::apply_suggestions(&mut records, &asked, &suggested);
        }
        for ((document, position), record) in places.into_iter().zip(records) {
            cache.remember(&record.snippet, &record.outcome);
            outcomes[document][position] = Some(record.outcome);
        }
        let mut fresh_answers = fresh.answers.into_iter();
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
        cache.save();
    } else {
        // Nothing ran: the record still says which interpreter and protections the
        // remembered verdicts came from.
        if let Some((python, sandbox)) = cache.interpreter() {
            execution.python = Some(python);
            execution.sandbox = Some(sandbox);
        }
    }
    execution.records = snippets
        .into_iter()
        .zip(outcomes)
        .flat_map(|(document, known)| document.into_iter().zip(known))
        .map(|(snippet, outcome)| SnippetRecord {
            snippet,
            // Every gap was filled by the pool, which reports one outcome per snippet.
            outcome: outcome.unwrap_or_else(|| Outcome::clean(Category::Skipped, 0.0)),
        })
        .collect();
    execution.answers = answers.into_iter().flatten().collect();
    Ok(execution)
}

/// What the pool and the resolver produced for the snippets and names that ran.
struct Fresh {
    python: Option<PythonInfo>,
    sandbox: Option<SandboxReport>,
    outcomes: Vec<Vec<Outcome>>,
    answers: Vec<Answer>,
    interrupted: bool,
}

fn run_pool(
    args: &CheckArgs,
    options: &PoolOptions,
    resolving: &ResolveOptions,
    jobs: Vec<DocumentJob>,
    queries: &[Query],
) -> Result<Fresh> {
    let total: usize = jobs.iter().map(|j| j.snippets.len()).sum();
    let interactive = std::io::stderr().is_terminal();
    if interactive && total > 0 {
        eprintln!(
            "snipcheck: running {total} snippet{} from {} document{}",
            if total == 1 { "" } else { "s" },
            jobs.iter().filter(|j| !j.snippets.is_empty()).count(),
            if jobs.len() == 1 { "" } else { "s" }
        );
    }
    snipcheck_python::pool::handle_interrupts();
    let bar = ProgressBar::new(total, interactive && !args.quiet);
    let empty = jobs
        .iter()
        .map(|j| vec![Outcome::clean(Category::Skipped, 0.0); j.snippets.len()])
        .collect();
    // Names are checked in a worker of their own while the snippets run.
    let (result, answers) = std::thread::scope(|scope| {
        let resolver = scope.spawn(|| references::resolve(resolving, queries));
        let result = (total > 0).then(|| {
            snipcheck_python::pool::run(options, jobs, |event| match event {
                Progress::Verdict { snippet, .. } => bar.advance(snippet),
                Progress::Slow {
                    snippet,
                    seconds,
                    limit,
                } => bar.notice(&format!(
                    "snipcheck: {}:{} {} is still running after {seconds:.0} s (limit {limit} s)",
                    snippet.path, snippet.line, snippet.id
                )),
            })
        });
        (result, resolver.join())
    });
    bar.finish();
    let answers = answers.unwrap_or_default();
    Ok(match result {
        Some(result) => {
            let result = result?;
            Fresh {
                python: result.python,
                sandbox: result.sandbox,
                outcomes: result.outcomes,
                answers,
                interrupted: result.interrupted,
            }
        }
        None => Fresh {
            python: None,
            sandbox: None,
            outcomes: empty,
            answers,
            interrupted: false,
        },
    })
}

/// The result cache as a run sees it: keys include the environment and the settings that
/// change verdicts. With `--no-cache` nothing is read, but fresh results are still kept.
struct Cache {
    store: ResultCache,
    read: bool,
    environment: String,
    settings: String,
    /// Each fixture's name and code: editing a fixture must run its snippets again.
    fixtures: Vec<(String, String)>,
}

impl Cache {
    fn open(
        args: &CheckArgs,
        loaded: &LoadedConfig,
        options: &PoolOptions,
        timeout_s: f64,
        fixtures: &Fixtures,
    ) -> Result<Cache> {
        let settings = serde_json::json!({
            "timeout": timeout_s,
            "isolate": format!("{:?}", options.isolate),
            "sandbox": options.sandbox,
            "env_allow": options.env_allow,
        });
        Ok(Cache {
            store: ResultCache::open(&cache_dir(args, loaded)),
            read: !args.no_cache,
            environment: options.env.fingerprint()?,
            settings: settings.to_string(),
            fixtures: fixtures
                .all()
                .iter()
                .map(|f| (f.name.clone(), f.code.clone()))
                .collect(),
        })
    }

    fn key(&self, snippet: &Snippet) -> String {
        // Everything about the snippet but where it stands: markers and other fields it
        // gains count without being listed here.
        let mut described = serde_json::to_value(snippet).unwrap_or_default();
        if let Some(fields) = described.as_object_mut() {
            for moving in ["line", "end_line", "id", "section"] {
                fields.remove(moving);
            }
            // A docstring's examples run against its whole module (and doctest decides
            // from it whether they run): editing the code beside them must run them again.
            if let Some(module) = &snippet.module {
                let source = std::fs::read(module).unwrap_or_default();
                let source = String::from_utf8_lossy(&source).into_owned();
                fields.insert("module_source".into(), source.into());
            }
        }
        let fixtures: Vec<(String, String)> = self
            .fixtures
            .iter()
            .filter(|(name, _)| snippet.fixtures.contains(name))
            .cloned()
            .collect();
        snipcheck_cache::key(&KeyParts {
            snippet,
            fixtures: &fixtures,
            markers: &described.to_string(),
            environment: &self.environment,
            settings: &self.settings,
        })
    }

    fn outcome(&self, snippet: &Snippet) -> Option<Outcome> {
        self.read
            .then(|| self.store.get(&self.key(snippet), snippet))
            .flatten()
    }

    fn remember(&mut self, snippet: &Snippet, outcome: &Outcome) {
        let key = self.key(snippet);
        self.store.put(key, snippet, outcome);
    }

    fn answer_key(&self, query: &Query) -> String {
        let mut question = serde_json::to_value(query).unwrap_or_default();
        if let Some(fields) = question.as_object_mut() {
            fields.remove("id");
        }
        value_key(&question, &self.environment)
    }

    fn answer(&self, query: &Query) -> Option<Answer> {
        if !self.read {
            return None;
        }
        let value = self.store.get_value(&self.answer_key(query))?;
        let mut answer: Answer = serde_json::from_value(value.clone()).ok()?;
        answer.id = query.id;
        Some(answer)
    }

    fn remember_answer(&mut self, query: &Query, answer: &Answer) {
        // "Could not check" depends on the moment (a time limit, a crash): ask again later.
        if answer.status == snipcheck_record::ReferenceStatus::Unchecked {
            return;
        }
        if let Ok(value) = serde_json::to_value(answer) {
            let key = self.answer_key(query);
            self.store.put_value(key, value);
        }
    }

    fn interpreter_key(&self) -> String {
        value_key(&serde_json::json!("interpreter"), &self.environment)
    }

    fn remember_interpreter(&mut self, python: &PythonInfo, sandbox: &SandboxReport) {
        let key = self.interpreter_key();
        self.store.put_value(
            key,
            serde_json::json!({ "python": python, "sandbox": sandbox }),
        );
    }

    fn interpreter(&self) -> Option<(PythonInfo, SandboxReport)> {
        let value = self.store.get_value(&self.interpreter_key())?;
        Some((
            serde_json::from_value(value["python"].clone()).ok()?,
            serde_json::from_value(value["sandbox"].clone()).ok()?,
        ))
    }

    fn save(&mut self) {
        if let Err(err) = self.store.save() {
            eprintln!("snipcheck: warning: cannot save the result cache: {err}");
        }
    }
}

/// The environment snippets run in: `--python-env`, the config's `env`, or one built from
/// the config's requirements.
pub fn environment(args: &CheckArgs, loaded: &LoadedConfig) -> Result<PythonEnv> {
    if let Some(path) = &args.python_env {
        return venv::existing(path);
    }
    if let Some(path) = &loaded.config.python.env {
        return venv::existing(&loaded.resolve(path));
    }
    let requirements = loaded
        .config
        .python
        .requirements
        .as_ref()
        .map(|p| loaded.resolve(p));
    venv::from_requirements(requirements.as_deref(), &cache_dir(args, loaded))
}

/// Where environments and symbol indexes are cached.
pub fn cache_dir(args: &CheckArgs, loaded: &LoadedConfig) -> PathBuf {
    cache_dir_for(args.cache_dir.as_deref(), loaded)
}

/// The cache folder: the one given, the config's, or `.snipcheck` at the repository root.
pub fn cache_dir_for(explicit: Option<&Path>, loaded: &LoadedConfig) -> PathBuf {
    match (explicit, &loaded.config.cache_dir) {
        (Some(dir), _) => dir.to_path_buf(),
        (None, Some(dir)) => loaded.resolve(dir),
        (None, None) => default_cache_dir(&loaded.base),
    }
}

/// How names are resolved: one worker on the snippets' environment, its symbol indexes
/// cached per environment, each library allowed its index budget on top of the snippet
/// time limit (importing TensorFlow alone takes seconds).
fn resolve_options(
    args: &CheckArgs,
    loaded: &LoadedConfig,
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
        .map(|fingerprint| cache_dir(args, loaded).join("index").join(fingerprint));
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

/// `.snipcheck` at the root of the git repository holding `start`, else in `start`.
fn default_cache_dir(start: &Path) -> PathBuf {
    let start = start.canonicalize().unwrap_or_else(|_| start.to_path_buf());
    let root = start
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .unwrap_or(&start);
    root.join(".snipcheck")
}

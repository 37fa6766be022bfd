//! `snipcheck check`: find the documents, extract, run, record, report.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use snipcheck_extract::Document;
use snipcheck_python::resolve::ResolveOptions;
use snipcheck_python::{venv, DocumentJob, PoolOptions, Progress, PythonEnv};
use snipcheck_record::{Diagnostic, Record, Severity, SnippetRecord};
use snipcheck_report::{Format, HumanOptions};

use crate::args::{CheckArgs, IsolateArg};
use crate::config::{self, LoadedConfig, DEFAULT_TIMEOUT_S};
use crate::exit;
use crate::fixtures;
use crate::progress::ProgressBar;
use crate::references;

pub fn run(args: &CheckArgs) -> ExitCode {
    match check(args) {
        Ok(code) => exit::code(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            exit::code(exit::INPUT_ERROR)
        }
    }
}

fn check(args: &CheckArgs) -> Result<u8> {
    let loaded = config::load(args.config.as_deref()).map_err(anyhow::Error::msg)?;
    let inputs = inputs(args, &loaded)?;
    let mut diagnostics = Vec::new();
    let documents = load_documents(&inputs, &mut diagnostics);

    let mut snippets = Vec::new();
    for document in &documents {
        let extraction = snipcheck_extract::extract(document);
        diagnostics.extend(extraction.diagnostics);
        snippets.push(extraction.snippets);
    }
    let fixtures = fixtures::prepare(&loaded, args, &mut snippets, &mut diagnostics)?;

    let (found, queries) = references::extract(&documents, &snippets, &loaded.config.references);

    let total: usize = snippets.iter().map(Vec::len).sum();
    let mut python = None;
    let mut sandbox = None;
    let mut interrupted = false;
    let mut records = Vec::with_capacity(total);
    let mut answers = Vec::new();
    if total > 0 || !queries.is_empty() {
        let env = environment(args, &loaded)?;
        let timeout_s = args
            .timeout
            .or(loaded.config.timeout)
            .unwrap_or(DEFAULT_TIMEOUT_S);
        let workers = args
            .jobs
            .or(loaded.config.jobs)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let options = PoolOptions {
            program: std::env::current_exe().context("cannot find the snipcheck binary")?,
            env,
            workers,
            warmup: loaded.config.python.warmup.clone(),
            isolate: args
                .isolate
                .or(loaded.config.isolate)
                .unwrap_or(IsolateArg::Document)
                .into(),
            sandbox: loaded.config.sandbox.options(),
            env_allow: loaded.config.sandbox.env_allow.clone(),
        };
        let jobs: Vec<DocumentJob> = snippets
            .iter()
            .map(|s| DocumentJob {
                snippets: s.clone(),
                timeout_s,
                fixtures: fixtures.for_document(s),
            })
            .collect();
        let interactive = std::io::stderr().is_terminal();
        if interactive {
            eprintln!(
                "snipcheck: running {total} snippet{} from {} document{}",
                if total == 1 { "" } else { "s" },
                documents.len(),
                if documents.len() == 1 { "" } else { "s" }
            );
        }
        snipcheck_python::pool::handle_interrupts();
        let resolving = resolve_options(args, &loaded, &options, timeout_s);
        let bar = ProgressBar::new(total, interactive && !args.quiet);
        // Names are checked in a worker of their own while the snippets run.
        let (result, resolved) = std::thread::scope(|scope| {
            let resolver = scope.spawn(|| references::resolve(&resolving, &queries));
            let result = (total > 0).then(|| {
                snipcheck_python::pool::run(&options, jobs, |event| match event {
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
        answers = resolved.unwrap_or_default();
        if let Some(result) = result {
            let result = result?;
            python = result.python;
            sandbox = result.sandbox;
            interrupted = result.interrupted;
            for (document_snippets, outcomes) in snippets.into_iter().zip(result.outcomes) {
                records.extend(
                    document_snippets
                        .into_iter()
                        .zip(outcomes)
                        .map(|(snippet, outcome)| SnippetRecord { snippet, outcome }),
                );
            }
        }
        fixtures.suggest(&mut records);
        let asked = references::missing_names(&records);
        if !asked.is_empty() && !interrupted {
            let queries: Vec<_> = asked.iter().map(|(_, q)| q.clone()).collect();
            let suggested = references::resolve(&resolving, &queries);
            references::apply_suggestions(&mut records, &asked, &suggested);
        }
    }
    let references = references::records(found, &answers, &loaded.config.references);

    let mut record = Record::new(
        documents.len() as u32,
        python,
        records,
        references,
        diagnostics,
    );
    record.sandbox = sandbox;
    let format = Format::from_name(&args.format).unwrap_or(Format::Human);
    let mut human = HumanOptions {
        quiet: args.quiet,
        verbose: args.verbose,
        color: false,
    };
    for extra in &args.output_format {
        let text = snipcheck_report::render(&record, extra.format, &human);
        write_atomically(&extra.path, &text)?;
    }
    match &args.output {
        Some(path) => write_atomically(path, &snipcheck_report::render(&record, format, &human))?,
        None => {
            human.color = color_stdout();
            let text = snipcheck_report::render(&record, format, &human);
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
        }
    }

    if interrupted {
        eprintln!("snipcheck: interrupted; the report holds the verdicts that were finished");
        return Ok(exit::INTERRUPTED);
    }
    Ok(if record.summary.errors > 0 {
        exit::INPUT_ERROR
    } else if record.summary.failed > 0 || record.has_reference_errors() {
        exit::FAILURES
    } else {
        exit::SUCCESS
    })
}

/// Colour on a terminal, unless `NO_COLOR` is set to anything but the empty string.
fn color_stdout() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// What to check: the command-line paths, else the config's documents.
fn inputs(args: &CheckArgs, loaded: &LoadedConfig) -> Result<Vec<PathBuf>> {
    if !args.paths.is_empty() {
        return Ok(args.paths.clone());
    }
    if loaded.config.documents.is_empty() {
        anyhow::bail!(match &loaded.path {
            Some(path) => format!(
                "nothing to check: {} lists no documents, and no path was given",
                path.display()
            ),
            None => format!(
                "nothing to check: give documents or folders, or list them in one of {}",
                config::DEFAULT_LOCATIONS.join(", ")
            ),
        });
    }
    Ok(loaded
        .config
        .documents
        .iter()
        .map(|d| loaded.resolve(d))
        .collect())
}

/// Reads every document; a bad one becomes an error diagnostic and the rest go on.
fn load_documents(inputs: &[PathBuf], diagnostics: &mut Vec<Diagnostic>) -> Vec<Document> {
    let mut documents = Vec::new();
    let mut error = |path: &Path, line: Option<u32>, message: String| {
        diagnostics.push(Diagnostic {
            path: path.display().to_string(),
            line,
            severity: Severity::Error,
            message,
        })
    };
    for input in inputs {
        let files = if input.is_dir() {
            match snipcheck_extract::discover(input) {
                Ok(files) if files.is_empty() => {
                    error(
                        input,
                        None,
                        "no documents found in this folder (looked for Markdown, plain-text, HTML, reST and notebook files)"
                            .into(),
                    );
                    continue;
                }
                Ok(files) => files,
                Err(err) => {
                    error(input, None, format!("cannot read folder: {err}"));
                    continue;
                }
            }
        } else if input.exists() {
            vec![input.clone()]
        } else {
            error(input, None, "no such file or folder".into());
            continue;
        };
        for file in files {
            let display = file.display().to_string();
            match snipcheck_extract::load(&file, &display) {
                Ok(document) => documents.push(document),
                Err(err) => {
                    let line = match &err {
                        snipcheck_extract::LoadError::InvalidUtf8 { line, .. } => Some(*line),
                        _ => None,
                    };
                    // The error text names the file already; keep the message to the reason.
                    let message = err.to_string();
                    let message = message
                        .strip_prefix(&format!("{display}: "))
                        .unwrap_or(&message)
                        .to_string();
                    error(&file, line, message);
                }
            }
        }
    }
    documents
}

/// The environment snippets run in: `--python-env`, the config's `env`, or one built from
/// the config's requirements.
fn environment(args: &CheckArgs, loaded: &LoadedConfig) -> Result<PythonEnv> {
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
fn cache_dir(args: &CheckArgs, loaded: &LoadedConfig) -> PathBuf {
    match (&args.cache_dir, &loaded.config.cache_dir) {
        (Some(dir), _) => dir.clone(),
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

/// Writes through a temporary file and a rename, so a reader never sees half a report.
fn write_atomically(path: &Path, text: &str) -> Result<()> {
    // A device or pipe (`-o /dev/null`, `-o /dev/stdout`) is written in place: renaming
    // over it would replace the device itself.
    if path.metadata().is_ok_and(|m| !m.is_file()) {
        return std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()));
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(parent)
        .with_context(|| format!("cannot write in {}", parent.display()))?;
    file.write_all(text.as_bytes())?;
    file.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

//! `snipcheck check`: find the documents, extract, run, record, report.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use snipcheck_extract::Document;
use snipcheck_python::{venv, DocumentJob, PoolOptions, PythonEnv};
use snipcheck_record::{Diagnostic, Record, Severity, SnippetRecord};
use snipcheck_report::{Format, HumanOptions};

use crate::args::CheckArgs;
use crate::config::{self, LoadedConfig, DEFAULT_TIMEOUT_S};
use crate::exit;

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

    let total: usize = snippets.iter().map(Vec::len).sum();
    let mut python = None;
    let mut records = Vec::with_capacity(total);
    if total > 0 {
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
        };
        let jobs: Vec<DocumentJob> = snippets
            .iter()
            .map(|s| DocumentJob {
                snippets: s.clone(),
                timeout_s,
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
        let result = snipcheck_python::pool::run(&options, jobs, |_| {})?;
        python = result.python;
        for (document_snippets, outcomes) in snippets.into_iter().zip(result.outcomes) {
            records.extend(
                document_snippets
                    .into_iter()
                    .zip(outcomes)
                    .map(|(snippet, outcome)| SnippetRecord { snippet, outcome }),
            );
        }
    }

    let record = Record::new(
        documents.len() as u32,
        python,
        records,
        Vec::new(),
        diagnostics,
    );
    let format = Format::from_name(&args.format).unwrap_or(Format::Human);
    let human = HumanOptions {
        quiet: args.quiet,
        verbose: args.verbose,
    };
    let text = snipcheck_report::render(&record, format, &human);
    match &args.output {
        Some(path) => write_atomically(path, &text)?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
        }
    }

    Ok(if record.summary.errors > 0 {
        exit::INPUT_ERROR
    } else if record.summary.failed > 0 || record.has_reference_errors() {
        exit::FAILURES
    } else {
        exit::SUCCESS
    })
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
    let cache_dir = match (&args.cache_dir, &loaded.config.cache_dir) {
        (Some(dir), _) => dir.clone(),
        (None, Some(dir)) => loaded.resolve(dir),
        (None, None) => default_cache_dir(&loaded.base),
    };
    venv::from_requirements(requirements.as_deref(), &cache_dir)
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

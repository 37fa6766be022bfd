//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use snipcheck_check::config::Isolate;
use snipcheck_check::CheckOptions;

#[derive(Debug, Parser)]
#[command(
    name = "snipcheck",
    version,
    about = "Verifies the Python examples in documentation",
    long_about = "Extracts every Python example from documents (Markdown, plain text, reST, HTML, \
                  notebooks, Python docstrings), runs each under an embedded CPython in a fresh \
                  namespace, and reports which work and why the others fail, at the document line.",
    after_help = "Exit codes: 0 all passed, 1 some snippet failed or a claim is wrong, 2 usage, \
                  config or input error, 130 interrupted (what finished is still reported)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the Python examples in documents.
    Check(CheckArgs),
    /// Write the last check's results into the committed record (snipcheck.record.yaml).
    Accept(AcceptArgs),
    /// Check again whenever a document, the config or a fixture changes.
    Watch(CheckArgs),
    /// Show the configuration file's schema.
    Config(ConfigArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Documents or folders to check. Default: the documents listed in the config.
    pub paths: Vec<PathBuf>,

    /// Config file. Default: ./snipcheck.yaml, else ./snippets/snipcheck.yaml, if present.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Use this existing virtualenv instead of building one from the requirements.
    #[arg(long, value_name = "PATH")]
    pub python_env: Option<PathBuf>,

    /// Output format: human, json, yaml, junit, github, markdown, sarif or html.
    #[arg(long, value_name = "FORMAT", default_value = "human",
          value_parser = clap::builder::PossibleValuesParser::new(snipcheck_report::Format::NAMES))]
    pub format: String,

    /// Write the report to this file (atomically) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also write these reports from the same run, e.g. `junit=report.xml,html=report.html`.
    #[arg(long, value_name = "FORMAT=FILE", value_delimiter = ',', value_parser = parse_output)]
    pub output_format: Vec<OutputSpec>,

    /// Per-snippet time limit in seconds (overrides the config).
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<f64>,

    /// Worker processes to run in parallel. Default: the number of cores.
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,

    /// A fresh process per document (snippets still get fresh namespaces) or per snippet.
    #[arg(long, value_name = "LEVEL", value_enum)]
    pub isolate: Option<IsolateArg>,

    /// Where environments are cached. Default: .snipcheck at the repository root.
    #[arg(long, value_name = "DIR", env = "SNIPCHECK_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Run every snippet without its setup fixtures, to see which are not self-contained.
    #[arg(long)]
    pub no_fixtures: bool,

    /// Show only failures and the summary.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Show captured output and tracebacks.
    #[arg(short, long)]
    pub verbose: bool,

    /// Run every snippet, even those whose verdict the result cache remembers.
    #[arg(
        long,
        env = "SNIPCHECK_NO_CACHE",
        value_parser = clap::builder::FalseyValueParser::new()
    )]
    pub no_cache: bool,

    /// Check only this snippet: its id, or PATH:LINE of any of its lines (repeatable).
    #[arg(long, value_name = "ID|PATH:LINE")]
    pub select: Vec<String>,

    /// Check only the documents git sees changed since this revision (and new ones).
    #[arg(long, value_name = "REV")]
    pub changed_since: Option<String>,

    /// Also write the results into the committed record (as `snipcheck accept` does).
    #[arg(long)]
    pub update: bool,
}

#[derive(Debug, Args)]
pub struct AcceptArgs {
    /// Config file. Default: ./snipcheck.yaml, else ./snippets/snipcheck.yaml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Where the last run was kept. Default: .snipcheck at the repository root.
    #[arg(long, value_name = "DIR", env = "SNIPCHECK_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Print the JSON Schema of snipcheck.yaml.
    #[arg(long)]
    pub schema: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum IsolateArg {
    Document,
    Snippet,
}

impl CheckArgs {
    /// The check these arguments ask for (the rest of them say how to report it).
    pub fn options(&self) -> CheckOptions {
        CheckOptions {
            paths: self.paths.clone(),
            config: self.config.clone(),
            python_env: self.python_env.clone(),
            timeout: self.timeout,
            jobs: self.jobs,
            isolate: self.isolate.map(|isolate| match isolate {
                IsolateArg::Document => Isolate::Document,
                IsolateArg::Snippet => Isolate::Snippet,
            }),
            cache_dir: self.cache_dir.clone(),
            no_fixtures: self.no_fixtures,
            no_cache: self.no_cache,
            select: self.select.clone(),
            changed_since: self.changed_since.clone(),
            update: self.update,
            worker_program: None,
        }
    }
}

/// One extra report: its format and the file it goes to.
#[derive(Debug, Clone)]
pub struct OutputSpec {
    pub format: snipcheck_report::Format,
    pub path: PathBuf,
}

fn parse_output(value: &str) -> Result<OutputSpec, String> {
    let (name, path) = value
        .split_once('=')
        .ok_or_else(|| format!("expected FORMAT=FILE, as in junit=report.xml; got `{value}`"))?;
    let format = snipcheck_report::Format::from_name(name).ok_or_else(|| {
        format!(
            "unknown format `{name}`; one of {}",
            snipcheck_report::Format::NAMES.join(", ")
        )
    })?;
    if path.is_empty() {
        return Err(format!("no file given for `{name}`"));
    }
    Ok(OutputSpec {
        format,
        path: PathBuf::from(path),
    })
}

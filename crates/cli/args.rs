//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use snipcheck_check::config::Isolate;
use snipcheck_check::{CheckOptions, Shard};

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
    /// Serve the Language Server Protocol on stdin and stdout: findings as diagnostics as
    /// you type, fixes as code actions, verdicts on hover.
    Lsp(LspArgs),
    /// Merge the records of a sharded run (`check --shard I/N`) into one, then compare and
    /// report it as `check` does.
    Merge(MergeArgs),
    /// Check, then apply the fixes the check knows: wrong API names in the prose replaced by
    /// the name the check suggests (safe ones only, unless --unsafe-fixes).
    Fix(FixArgs),
    /// Show where the result cache is, its entries and size (`info`); `clear` empties it.
    Cache(CacheArgs),
}

#[derive(Debug, Args)]
pub struct CacheArgs {
    #[arg(value_parser = ["info", "clear"], default_value = "info")]
    pub action: String,

    #[command(flatten)]
    pub at: AcceptArgs,
}

#[derive(Debug, Args)]
pub struct FixArgs {
    /// Documents or folders to fix. Default: the documents listed in the config.
    pub paths: Vec<PathBuf>,

    /// Config file. Default: ./snipcheck.yaml, else ./snippets/snipcheck.yaml, if present.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Print the fixes as a unified diff and write nothing.
    #[arg(long)]
    pub diff: bool,

    /// Also apply fixes that change what the text says (a function offered for a claimed
    /// class, a name in another module).
    #[arg(long)]
    pub unsafe_fixes: bool,

    /// Also rewrite expected output (doctest sessions, output blocks, `#>` comments) that
    /// differs from what the example printed.
    #[arg(long)]
    pub update_output: bool,

    /// Use this existing virtualenv instead of building one from the requirements.
    #[arg(long, value_name = "PATH")]
    pub python_env: Option<PathBuf>,

    /// Build the environment with this Python version (3.9-3.13), found on PATH, under
    /// pyenv or among uv's Pythons. Default: the config's python.version, else python3.
    #[arg(long, value_name = "X.Y")]
    pub python: Option<String>,

    /// Where environments are cached. Default: .snipcheck at the repository root.
    #[arg(long, value_name = "DIR", env = "SNIPCHECK_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Worker processes to run in parallel. Default: the number of cores.
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,

    /// Run every snippet, even those whose verdict the result cache remembers.
    #[arg(
        long,
        env = "SNIPCHECK_NO_CACHE",
        value_parser = clap::builder::FalseyValueParser::new()
    )]
    pub no_cache: bool,
}

impl FixArgs {
    /// The check a fix starts from.
    pub fn options(&self) -> CheckOptions {
        CheckOptions {
            paths: self.paths.clone(),
            config: self.config.clone(),
            python_env: self.python_env.clone(),
            python: self.python.clone(),
            cache_dir: self.cache_dir.clone(),
            jobs: self.jobs,
            no_cache: self.no_cache,
            ..CheckOptions::default()
        }
    }
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

    /// Build the environment with this Python version (3.9-3.13), found on PATH, under
    /// pyenv or among uv's Pythons. Default: the config's python.version, else python3.
    #[arg(long, value_name = "X.Y")]
    pub python: Option<String>,

    #[command(flatten)]
    pub report: ReportArgs,

    /// Per-snippet time limit in seconds (overrides the config).
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<f64>,

    /// Worker processes to run in parallel. Default: the number of cores.
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,

    /// A fresh process per document (snippets still get fresh namespaces), per snippet, or
    /// per library a document's independent snippets use (they then run in parallel).
    #[arg(long, value_name = "LEVEL", value_enum)]
    pub isolate: Option<IsolateArg>,

    /// Where environments are cached. Default: .snipcheck at the repository root.
    #[arg(long, value_name = "DIR", env = "SNIPCHECK_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Run every snippet without its setup fixtures, to see which are not self-contained.
    #[arg(long)]
    pub no_fixtures: bool,

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

    /// Check only shard INDEX of TOTAL (1-based), for a CI matrix; `snipcheck merge` puts
    /// the shards' JSON records back together. Default: TEST_SHARD_INDEX (0-based) and
    /// TEST_TOTAL_SHARDS, as Bazel sets them.
    #[arg(long, value_name = "INDEX/TOTAL", value_parser = parse_shard)]
    pub shard: Option<Shard>,
}

/// How a run is reported: shared by `check` and `merge`.
#[derive(Debug, Args)]
pub struct ReportArgs {
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

    /// Show only failures and the summary.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Show captured output and tracebacks.
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Debug, Args)]
pub struct LspArgs {
    /// Config file. Default: snipcheck.yaml, else snippets/snipcheck.yaml, in the
    /// workspace's root.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Where environments are cached. Default: .snipcheck at the repository root.
    #[arg(long, value_name = "DIR", env = "SNIPCHECK_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The JSON (or YAML) records of every shard, written by `check --shard I/N --format json`.
    #[arg(required = true, value_name = "RECORD")]
    pub records: Vec<PathBuf>,

    /// Config file, for the committed record to compare with. Default: ./snipcheck.yaml,
    /// else ./snippets/snipcheck.yaml, if present.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Where the merged run is remembered for `accept`. Default: .snipcheck at the
    /// repository root.
    #[arg(long, value_name = "DIR", env = "SNIPCHECK_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,

    #[command(flatten)]
    pub report: ReportArgs,
}

/// The shard Bazel's TEST_SHARD_INDEX and TEST_TOTAL_SHARDS name, when both are set.
pub fn bazel_shard() -> anyhow::Result<Option<Shard>> {
    let variable = |name| std::env::var(name).ok();
    Shard::from_bazel(
        variable("TEST_SHARD_INDEX").as_deref(),
        variable("TEST_TOTAL_SHARDS").as_deref(),
    )
}

fn parse_shard(value: &str) -> Result<Shard, String> {
    Shard::parse(value).map_err(|err| err.to_string())
}

/// The config and cache folder of `accept` and `cache`.
#[derive(Debug, Args)]
pub struct AcceptArgs {
    /// Config file. Default: ./snipcheck.yaml, else ./snippets/snipcheck.yaml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The cache folder (the last run, the result cache). Default: .snipcheck at the
    /// repository root.
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
    Library,
}

impl CheckArgs {
    /// The check these arguments ask for (the rest of them say how to report it).
    pub fn options(&self) -> CheckOptions {
        CheckOptions {
            paths: self.paths.clone(),
            config: self.config.clone(),
            python_env: self.python_env.clone(),
            python: self.python.clone(),
            timeout: self.timeout,
            jobs: self.jobs,
            isolate: self.isolate.map(|isolate| match isolate {
                IsolateArg::Document => Isolate::Document,
                IsolateArg::Snippet => Isolate::Snippet,
                IsolateArg::Library => Isolate::Library,
            }),
            cache_dir: self.cache_dir.clone(),
            no_fixtures: self.no_fixtures,
            no_cache: self.no_cache,
            select: self.select.clone(),
            changed_since: self.changed_since.clone(),
            update: self.update,
            shard: self.shard,
            ..CheckOptions::default()
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

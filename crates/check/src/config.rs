//! `snipcheck.yaml`: which documents to check and the environment to check them in.
//!
//! Relative paths in the file are relative to the file's own folder, so a config works the
//! same from any working directory. This module is the model only: what each section
//! means for a run lives with the code that applies it (`fixtures`, `references`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Deserialize;
use snipcheck_extract::{Markers, ReferenceContext};
use snipcheck_record::Severity;

/// What `snipcheck config` prints without `--schema`.
pub const DOCUMENTATION: &str = "snipcheck.yaml configures a check; every key is optional.\n\
The README's \"Configuration\" section describes each key; `snipcheck config --schema` prints the\n\
JSON Schema (for editors and validation). A wrong key or type is reported with its line and column.";

/// File names looked for when `--config` is not given, in this order.
pub const DEFAULT_LOCATIONS: [&str; 2] = ["snipcheck.yaml", "snippets/snipcheck.yaml"];

/// Per-snippet time limit when neither the config nor the command line sets one.
pub const DEFAULT_TIMEOUT_S: f64 = 60.0;

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Documents or folders to check.
    #[serde(default)]
    pub documents: Vec<PathBuf>,
    #[serde(default)]
    pub python: PythonConfig,
    /// Per-snippet time limit, in seconds.
    pub timeout: Option<f64>,
    /// Worker processes; default the number of cores.
    pub jobs: Option<usize>,
    /// Where environments, remembered verdicts and indexes are cached.
    pub cache_dir: Option<PathBuf>,
    /// How long the result cache keeps verdicts, and how large it may grow.
    #[serde(default)]
    pub cache: CacheConfig,
    /// The committed record of known results; default `snipcheck.record.yaml` beside this file.
    pub record: Option<PathBuf>,
    /// A fresh process per `document` (default) or per `snippet`.
    #[serde(default, deserialize_with = "one_word")]
    pub isolate: Option<Isolate>,
    #[serde(default)]
    pub sandbox: SandboxConfig,
    /// How the API names in the prose are checked.
    #[serde(default)]
    pub references: ReferencesConfig,
    /// Setup fixtures by name: Python files run before the snippets they apply to.
    #[serde(default)]
    pub fixtures: BTreeMap<String, FixtureConfig>,
    /// Markers by snippet id, for documents that cannot hold them (plain text).
    #[serde(default)]
    pub snippets: BTreeMap<String, SnippetEntry>,
}

/// How much a process is shared: a fresh one per document (snippets still get fresh
/// namespaces), per group of a document's snippets using the same libraries, or per snippet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Isolate {
    #[default]
    Document,
    Snippet,
    Library,
}

impl From<Isolate> for snipcheck_python::Isolation {
    fn from(value: Isolate) -> Self {
        match value {
            Isolate::Document => snipcheck_python::Isolation::Document,
            Isolate::Snippet => snipcheck_python::Isolation::Snippet,
            Isolate::Library => snipcheck_python::Isolation::Library,
        }
    }
}

/// The `references:` section of `snipcheck.yaml`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferencesConfig {
    /// Check the API names in the prose (default true).
    pub check: Option<bool>,
    /// Library names as written in the prose -> import names (`"My Lib": mylib`).
    #[serde(default)]
    pub libraries: BTreeMap<String, String>,
    /// Short names -> modules (`nn: torch.nn`).
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
    /// Names that are intentionally not resolvable, as written or fully qualified.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Severity of a bare name that does not resolve (default `warning`).
    #[schemars(with = "Option<SeverityName>")]
    #[serde(default, deserialize_with = "one_word")]
    pub bare: Option<Severity>,
    /// Seconds allowed for walking a library's modules to index it (default 60).
    pub index_budget: Option<f64>,
}

/// The severities as the config spells them, for its schema.
#[derive(schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[allow(dead_code)] // only described, never built
enum SeverityName {
    Info,
    Warning,
    Error,
}

impl ReferencesConfig {
    pub fn enabled(&self) -> bool {
        self.check.unwrap_or(true)
    }

    pub fn context(&self) -> ReferenceContext {
        let pairs = |map: &BTreeMap<String, String>| {
            map.iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Vec<_>>()
        };
        ReferenceContext {
            libraries: pairs(&self.libraries),
            aliases: pairs(&self.aliases),
        }
    }
}

/// A `fixtures:` entry of `snipcheck.yaml`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FixtureConfig {
    /// The Python file, relative to the config.
    pub file: PathBuf,
    /// Every snippet of these documents (files or folders) runs after the fixture...
    #[serde(default)]
    pub documents: Vec<PathBuf>,
    /// ...or only those under headings matching these (a substring, or a glob with `*`
    /// and `?`; case-insensitive), within `documents` when both are given...
    #[serde(default)]
    pub sections: Vec<String>,
    /// ...and these snippets, by id.
    #[serde(default)]
    pub snippets: Vec<String>,
}

/// A `snippets:` entry of `snipcheck.yaml`: the markers of one snippet, by id.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SnippetEntry {
    /// `true`, or the reason.
    pub skip: Option<Flag>,
    /// `true`, or the reason.
    pub xfail: Option<Flag>,
    /// The failure category expected.
    pub expect: Option<String>,
    /// Why it is skipped or expected to fail.
    pub reason: Option<String>,
    /// Seconds.
    pub timeout: Option<f64>,
    /// A fixture name, or a list of them.
    pub fixture: Option<Names>,
    pub session: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Flag {
    On(bool),
    Reason(String),
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Names {
    One(String),
    Many(Vec<String>),
}

impl SnippetEntry {
    /// The entry as markers, checked by the same rules as markers in documents.
    pub fn markers(&self) -> Result<Markers, String> {
        let mut markers = Markers::default();
        for (key, flag) in [("skip", &self.skip), ("xfail", &self.xfail)] {
            match flag {
                Some(Flag::On(true)) => markers.set(key, None)?,
                Some(Flag::Reason(reason)) => markers.set(key, Some(reason))?,
                Some(Flag::On(false)) | None => {}
            }
        }
        if let Some(expect) = &self.expect {
            markers.set("expect", Some(expect))?;
        }
        if let Some(reason) = &self.reason {
            markers.set("reason", Some(reason))?;
        }
        if let Some(timeout) = self.timeout {
            markers.set("timeout", Some(&timeout.to_string()))?;
        }
        match &self.fixture {
            Some(Names::One(name)) => markers.set("fixture", Some(name))?,
            Some(Names::Many(names)) => {
                for name in names {
                    markers.set("fixture", Some(name))?;
                }
            }
            None => {}
        }
        if let Some(session) = &self.session {
            markers.set("session", Some(session))?;
        }
        Ok(markers)
    }
}

/// What snippets may do. Defaults protect: no network, capped memory and files.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SandboxConfig {
    /// Let snippets reach the network.
    pub network: bool,
    /// Address-space limit per process, MiB (0: none).
    pub memory_mb: u64,
    /// Largest file a snippet may write, MiB (0: none).
    pub file_size_mb: u64,
    /// Processes a document may run at once, where cgroups allow (0: none).
    pub max_processes: u64,
    /// Refuse writes outside the working folder (where Landlock is available).
    pub restrict_writes: bool,
    /// Run each document in a PID namespace of its own (where the kernel allows it), so a
    /// snippet cannot signal processes outside its document.
    pub pid_namespace: bool,
    /// Environment variables passed to snippets besides the defaults (`NAME` or `PREFIX*`).
    pub env_allow: Vec<String>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        let defaults = snipcheck_python::SandboxOptions::default();
        SandboxConfig {
            network: defaults.network,
            memory_mb: defaults.memory_bytes >> 20,
            file_size_mb: defaults.file_size_bytes >> 20,
            max_processes: defaults.max_processes,
            restrict_writes: defaults.restrict_writes,
            pid_namespace: defaults.pid_namespace,
            env_allow: Vec::new(),
        }
    }
}

impl SandboxConfig {
    pub fn options(&self) -> snipcheck_python::SandboxOptions {
        snipcheck_python::SandboxOptions {
            memory_bytes: self.memory_mb << 20,
            file_size_bytes: self.file_size_mb << 20,
            max_processes: self.max_processes,
            network: self.network,
            restrict_writes: self.restrict_writes,
            pid_namespace: self.pid_namespace,
        }
    }
}

/// The `cache:` section: when the result cache forgets verdicts. It evicts when a run
/// adds entries.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CacheConfig {
    /// Verdicts no run has read or written for this many days are forgotten (default 30;
    /// 0: never).
    pub max_age_days: Option<f64>,
    /// Past this many megabytes the least recently used verdicts are forgotten, down to 80%
    /// of it (default 512; 0: no cap).
    pub max_size_mb: Option<f64>,
}

impl CacheConfig {
    pub fn eviction(&self) -> snipcheck_cache::Eviction {
        snipcheck_cache::Eviction::from_config(self.max_age_days, self.max_size_mb)
    }
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PythonConfig {
    /// A pip requirements file the environment is built from.
    pub requirements: Option<PathBuf>,
    /// An existing virtualenv to use instead.
    pub env: Option<PathBuf>,
    /// The Python version (`"3.12"`) the environment is built with, found on PATH, under
    /// pyenv or among uv's Pythons. Default: `python3` on PATH.
    pub version: Option<String>,
    /// Modules imported once per worker before snippets run. Default: the modules the
    /// documents import.
    pub warmup: Option<Vec<String>>,
}

/// A config and the folder its relative paths start from.
#[derive(Debug, Default)]
pub struct LoadedConfig {
    pub config: Config,
    /// The config file, when there is one.
    pub path: Option<PathBuf>,
    pub base: PathBuf,
}

impl LoadedConfig {
    /// Resolves a path written in the config.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            join_clean(&self.base, path)
        }
    }

    /// The cache folder: the one given, the config's, or `.snipcheck` at the repository root.
    pub fn cache_dir(&self, explicit: Option<&Path>) -> PathBuf {
        match (explicit, &self.config.cache_dir) {
            (Some(dir), _) => dir.to_path_buf(),
            (None, Some(dir)) => self.resolve(dir),
            (None, None) => default_cache_dir(&self.base),
        }
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

/// Loads `explicit`, or the first default location that exists, or an empty config.
pub fn load(explicit: Option<&Path>) -> Result<LoadedConfig, String> {
    let path = match explicit {
        Some(path) => {
            if !path.is_file() {
                return Err(format!("{}: config file not found", path.display()));
            }
            Some(path.to_path_buf())
        }
        None => DEFAULT_LOCATIONS
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file()),
    };
    let Some(path) = path else {
        return Ok(LoadedConfig {
            base: PathBuf::from("."),
            ..LoadedConfig::default()
        });
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|err| format!("{}: cannot read config: {err}", path.display()))?;
    let config = parse(&text).map_err(|err| format!("{}:{err}", path.display()))?;
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    Ok(LoadedConfig {
        config,
        path: Some(path),
        base,
    })
}

/// Reads a choice among words (an enum of unit variants) from a scalar only. serde_yaml reads
/// a list or a map there as an enum written with a YAML tag, and says "expected a YAML tag
/// starting with '!'", which names neither the key's choices nor what is wrong.
fn one_word<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    deserializer.deserialize_any(OneWord(std::marker::PhantomData))
}

struct OneWord<T>(std::marker::PhantomData<T>);

impl<'de, T: serde::de::DeserializeOwned> serde::de::Visitor<'de> for OneWord<T> {
    type Value = Option<T>;

    // A list or a map is refused with this (serde's own "invalid type" message).
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        // serde's message for a word that is none of the choices lists them.
        let unknown =
            T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(""))
                .err()
                .map(|err| err.to_string());
        match unknown
            .as_deref()
            .and_then(|text| text.split_once("expected "))
        {
            Some((_, choices)) => f.write_str(choices),
            None => f.write_str("a single word"),
        }
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_str<E: serde::de::Error>(self, word: &str) -> Result<Self::Value, E> {
        use serde::de::IntoDeserializer;
        T::deserialize(word.into_deserializer()).map(Some)
    }

    // As serde_yaml reads a plain scalar for an enum: `3` is the word "3".
    fn visit_u64<E: serde::de::Error>(self, number: u64) -> Result<Self::Value, E> {
        self.visit_str(&number.to_string())
    }

    fn visit_i64<E: serde::de::Error>(self, number: i64) -> Result<Self::Value, E> {
        self.visit_str(&number.to_string())
    }

    fn visit_f64<E: serde::de::Error>(self, number: f64) -> Result<Self::Value, E> {
        self.visit_str(&number.to_string())
    }

    fn visit_bool<E: serde::de::Error>(self, flag: bool) -> Result<Self::Value, E> {
        self.visit_str(&flag.to_string())
    }
}

/// Parses config text; errors read `LINE:COLUMN: message` (or `: message` without a place).
pub fn parse(text: &str) -> Result<Config, String> {
    // An empty file is a valid config with every default.
    if text.trim().is_empty() {
        return Ok(Config::default());
    }
    let config: Config = serde_yaml::from_str(text).map_err(|err| match err.location() {
        Some(at) => format!("{}:{}: {}", at.line(), at.column(), strip_location(&err)),
        None => format!(" {err}"),
    })?;
    if let Some(timeout) = config.timeout {
        if !(timeout.is_finite() && timeout > 0.0) {
            return Err(format!(
                " timeout must be a positive number of seconds, not {timeout}"
            ));
        }
    }
    if let Some(budget) = config.references.index_budget {
        if !(budget.is_finite() && budget > 0.0) {
            return Err(format!(
                " references.index_budget must be a positive number of seconds, not {budget}"
            ));
        }
    }
    if config.jobs == Some(0) {
        return Err(" jobs must be at least 1".into());
    }
    Ok(config)
}

/// serde_yaml appends " at line L column C" to its messages; we print the place up front.
fn strip_location(err: &serde_yaml::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// Joins without leaving `./` in front, so displayed paths stay as short as the user wrote.
fn join_clean(base: &Path, path: &Path) -> PathBuf {
    if base == Path::new(".") {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

/// The JSON Schema of `snipcheck.yaml`, as `snipcheck config --schema` prints it.
pub fn schema() -> String {
    let schema = schemars::schema_for!(Config);
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_config() {
        let config = parse(
            "documents: [guide.txt]\npython:\n  requirements: requirements.txt\n  warmup: [numpy]\ntimeout: 90\n",
        )
        .unwrap();
        assert_eq!(config.documents, vec![PathBuf::from("guide.txt")]);
        assert_eq!(config.python.warmup, Some(vec!["numpy".to_string()]));
        assert_eq!(config.timeout, Some(90.0));
    }

    #[test]
    fn unknown_key_names_line_column_and_valid_keys() {
        let err = parse("documents: []\ntimout: 5\n").unwrap_err();
        assert!(err.starts_with("2:1: unknown field `timout`"), "{err}");
        assert!(err.contains("`timeout`"), "{err}");
    }

    #[test]
    fn wrong_type_is_reported_with_its_place() {
        let err = parse("timeout: soon\n").unwrap_err();
        assert!(err.starts_with("1:10: "), "{err}");
    }

    #[test]
    fn rejects_a_non_positive_timeout() {
        assert!(parse("timeout: 0\n").is_err());
    }

    #[test]
    fn references_section() {
        let config = parse(
            "references:\n  libraries: {My Lib: mylib}\n  aliases: {ml: mylib.core}\n  \
             ignore: [Imputer]\n  bare: error\n",
        )
        .unwrap();
        let references = &config.references;
        assert_eq!(references.libraries["My Lib"], "mylib");
        assert_eq!(references.aliases["ml"], "mylib.core");
        assert_eq!(references.ignore, vec!["Imputer".to_string()]);
        assert_eq!(references.bare, Some(snipcheck_record::Severity::Error));
        assert!(references.enabled());
        let err = parse("references:\n  ignored: [x]\n").unwrap_err();
        assert!(err.starts_with("2:3: "), "{err}");
        assert!(err.contains("unknown field `ignored`"), "{err}");
        assert!(parse("references:\n  index_budget: -1\n").is_err());
    }

    #[test]
    fn a_choice_given_as_a_list_or_map_names_the_choices_and_its_place() {
        let err = parse("jobs: 2\nisolate: [library]\n").unwrap_err();
        assert!(err.starts_with("2:10: isolate: "), "{err}");
        assert!(
            err.ends_with(
                "invalid type: sequence, expected one of `document`, `snippet`, `library`"
            ),
            "{err}"
        );
        let err = parse("references:\n  bare: {level: error}\n").unwrap_err();
        assert!(err.starts_with("2:9: references.bare: "), "{err}");
        assert!(err.contains("`warning`"), "{err}");
        assert!(err.contains("invalid type: map, expected one of"), "{err}");
        // Words still read as before, right or wrong.
        assert_eq!(
            parse("isolate: library\n").unwrap().isolate,
            Some(Isolate::Library)
        );
        assert_eq!(
            parse("references: {bare: error}\n")
                .unwrap()
                .references
                .bare,
            Some(Severity::Error)
        );
        assert!(parse("isolate:\n").unwrap().isolate.is_none());
        let err = parse("isolate: 3\n").unwrap_err();
        assert!(
            err.contains("unknown variant `3`, expected one of"),
            "{err}"
        );
    }

    #[test]
    fn empty_file_means_defaults() {
        assert!(parse("\n").unwrap().documents.is_empty());
    }

    #[test]
    fn entries_become_markers() {
        let entry: SnippetEntry = serde_yaml::from_str(
            "{xfail: imgaug is broken, timeout: 5, fixture: [ml, images], session: s}",
        )
        .unwrap();
        let markers = entry.markers().unwrap();
        assert_eq!(
            markers.xfail.unwrap().reason.as_deref(),
            Some("imgaug is broken")
        );
        assert_eq!(markers.timeout, Some(5.0));
        assert_eq!(markers.fixtures, ["ml", "images"]);
        let entry: SnippetEntry = serde_yaml::from_str("{skip: false, expect: nonsense}").unwrap();
        assert!(entry.markers().unwrap_err().starts_with("expect=nonsense"));
        let entry: SnippetEntry = serde_yaml::from_str("{timeout: -2}").unwrap();
        assert!(entry.markers().is_err());
        assert!(serde_yaml::from_str::<SnippetEntry>("{xfial: true}").is_err());
    }
}

//! The record: what snipcheck found in the documents and what became of each finding.
//!
//! Every output format reads this model and nothing else, so the types here are the
//! product's contract. Field names are serialized exactly as the README documents them;
//! bump [`SCHEMA_VERSION`] on any change that breaks a reader.

use serde::{Deserialize, Serialize};

/// Version of the serialized record. Readers should refuse versions they do not know.
pub const SCHEMA_VERSION: u32 = 1;

/// A Python example pulled out of a document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snippet {
    /// Stable identifier: derived from the enclosing heading and an ordinal, so it survives
    /// edits elsewhere in the document.
    pub id: String,
    /// The document, as the user named it (relative paths stay relative).
    pub path: String,
    /// First line of code, 1-based, in the document.
    pub line: u32,
    /// Last line of code, 1-based, inclusive.
    pub end_line: u32,
    /// The code exactly as it will run (fence indentation removed, nothing else changed).
    pub code: String,
    /// The heading or question the snippet sits under, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// How the code is run: a script, or an interactive `>>>` session checked like doctest.
    #[serde(default, skip_serializing_if = "SnippetKind::is_python")]
    pub kind: SnippetKind,
    /// Snippets with the same session run, in order, in one shared namespace (the cells of
    /// a notebook, the doctest sessions of a document); without one a snippet runs alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// The notebook cell the code is in, 1-based, counting every cell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell: Option<u32>,
    /// What the code must print, as the document shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_output: Option<ExpectedOutput>,
    /// A Python source file whose module's globals the code starts with (docstring
    /// examples see the names of their module, as doctest gives them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// For a docstring's examples: the object the docstring belongs to, named within the
    /// module as doctest names it (`Class.method`, `__test__.KEY`; empty for the module
    /// itself). The run checks that doctest would run these examples, and says why not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// A Python expression: when it is true in the snippet's namespace the snippet is
    /// skipped (reST's `:skipif:`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_if: Option<String>,
    /// Doctest option directives that apply to the whole snippet (`+ELLIPSIS`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Setup fixtures (by their config name) run, in this order, in the snippet's fresh
    /// namespace before it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixtures: Vec<String>,
    /// Not run: a `skip` marker or config entry said so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<Skip>,
    /// A failure is expected (`xfail`, or `expect=CATEGORY` for a particular one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xfail: Option<Expectation>,
    /// This snippet's time limit in seconds, when a marker sets one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<f64>,
}

/// Why a snippet is not run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skip {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A failure the document knows about: the snippet passes when it fails this way.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expectation {
    /// The category it must fail with; absent: any failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Expectation {
    /// What [`Outcome::expected`] says: `failure`, or the category expected.
    pub fn describe(&self) -> &'static str {
        self.category.map_or("failure", Category::as_str)
    }

    /// The verdict on a snippet that ended as `outcome`: a failure as expected passes (its
    /// category and error kept, so the record still says what happened); a pass, or a
    /// failure of another category, fails and says what was expected.
    pub fn judge(&self, mut outcome: Outcome) -> Outcome {
        if outcome.status == Status::Skipped {
            return outcome; // not run: nothing to compare
        }
        outcome.expected = Some(self.describe().to_string());
        let expected = match self.category {
            Some(category) => format!("expected to fail with `{category}`"),
            None => "expected to fail".to_string(),
        };
        match outcome.category {
            Category::Passed | Category::Skipped => {
                outcome.status = Status::Failed;
                outcome.error = Some(SnippetError {
                    kind: "UnexpectedPass".into(),
                    message: format!("{expected}, but passed"),
                    line: None,
                    traceback: None,
                });
            }
            actual if self.category.is_none_or(|c| c == actual) => {
                outcome.status = Status::Passed;
            }
            actual => {
                outcome.status = Status::Failed;
                if let Some(error) = outcome.error.as_mut() {
                    error.message =
                        format!("{expected}, but failed with `{actual}`: {}", error.message);
                }
            }
        }
        outcome
    }
}

/// How a snippet's code is run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SnippetKind {
    /// A script, run as one module body.
    #[default]
    Python,
    /// `>>>` examples, each run on its own and its output compared with the text that
    /// follows it, with doctest's rules.
    Doctest,
}

impl SnippetKind {
    fn is_python(&self) -> bool {
        *self == SnippetKind::Python
    }
}

/// Output a snippet must print, and where the document shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedOutput {
    pub text: String,
    /// First line of the expected output in the document.
    pub line: u32,
    /// Its last line, inclusive (0 in records that predate it: the span is unknown).
    #[serde(default)]
    pub end_line: u32,
    /// How the document writes it.
    #[serde(default, skip_serializing_if = "OutputForm::is_block")]
    pub form: OutputForm,
}

/// How a document writes a plain snippet's expected output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutputForm {
    /// A block of its own after the code: an output fence, a `<pre class="output">`, a
    /// `.. testoutput::` directive. Its lines are the output's lines.
    #[default]
    Block,
    /// `#>` comments in the code (pytest-examples' style).
    Comments,
}

impl OutputForm {
    fn is_block(&self) -> bool {
        *self == OutputForm::Block
    }
}

/// An expected output that differs from what the code printed: where the document shows it
/// and what was printed instead, as the run compared them. `snipcheck fix --update-output`
/// rewrites the expected output from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputMismatch {
    /// First document line of the expected output. For a doctest example that expects no
    /// output, the line after its source, where the output would go.
    pub line: u32,
    /// The expected output, as the comparison read it (doctest's `want`).
    pub want: String,
    /// What the code printed (doctest's `got`).
    pub got: String,
    /// The comparison directives in force beyond an exact match (`ELLIPSIS`,
    /// `NORMALIZE_WHITESPACE`...): the expected output was written loose on purpose.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// The example expects an exception (its expected output is a traceback).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exception: bool,
    /// `got` was cut short: more was printed than the record keeps.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Passed,
    Failed,
    Skipped,
}

/// Why a snippet ended the way it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Ran to the end.
    Passed,
    /// Not run (a marker or the configuration said so).
    Skipped,
    /// The code does not parse.
    SyntaxError,
    /// A top-level package is not installed (or does not exist).
    MissingModule,
    /// The module exists, the documented name in it does not.
    MissingName,
    /// A NameError: the snippet needs context it does not define.
    UndefinedName,
    /// A third-party package raised while being imported (broken against its dependencies).
    DependencyError,
    /// Any other exception.
    Exception,
    /// Ran, but printed something else than the document says it prints.
    OutputMismatch,
    /// Stopped after the time limit.
    Timeout,
    /// The process running it died by a signal.
    Crashed,
    /// `sys.exit`, `os._exit` or the like ended the process.
    Exited,
}

impl Category {
    pub const ALL: [Category; 12] = [
        Category::Passed,
        Category::Skipped,
        Category::SyntaxError,
        Category::MissingModule,
        Category::MissingName,
        Category::UndefinedName,
        Category::DependencyError,
        Category::Exception,
        Category::OutputMismatch,
        Category::Timeout,
        Category::Crashed,
        Category::Exited,
    ];

    /// The kebab-case name used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Passed => "passed",
            Category::Skipped => "skipped",
            Category::SyntaxError => "syntax-error",
            Category::MissingModule => "missing-module",
            Category::MissingName => "missing-name",
            Category::UndefinedName => "undefined-name",
            Category::DependencyError => "dependency-error",
            Category::Exception => "exception",
            Category::OutputMismatch => "output-mismatch",
            Category::Timeout => "timeout",
            Category::Crashed => "crashed",
            Category::Exited => "exited",
        }
    }

    /// The status every snippet of this category has.
    pub fn status(self) -> Status {
        match self {
            Category::Passed => Status::Passed,
            Category::Skipped => Status::Skipped,
            _ => Status::Failed,
        }
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        })
    }
}

/// What went wrong, as Python reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnippetError {
    /// Exception type, qualified unless it is a builtin (`ValueError`, `numpy.AxisError`),
    /// or a pseudo-type for process-level endings (`Timeout`, `Signal`, `SystemExit`).
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
    /// Document line where it happened, when it happened inside the snippet.
    pub line: Option<u32>,
    /// The formatted traceback, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceback: Option<String>,
}

/// Captured output of one stream, capped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Captured {
    pub text: String,
    /// Bytes written beyond the cap and dropped.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub truncated_bytes: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The verdict on one snippet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub status: Status,
    pub category: Category,
    pub error: Option<SnippetError>,
    /// What to write instead, best first.
    #[serde(default)]
    pub suggestions: Vec<String>,
    pub duration_ms: f64,
    #[serde(default)]
    pub stdout: Captured,
    #[serde(default)]
    pub stderr: Captured,
    /// Things worth knowing that did not change the verdict (processes left running...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// For doctest sessions: how many of the `>>>` examples ran, failed and were skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub examples: Option<ExampleCounts>,
    /// Present when a marker expected a failure: `failure` (`xfail`) or the category
    /// (`expect=`). With status `passed` it failed as expected; with `failed` it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// For an `output-mismatch`: each expected output that differs, in document order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mismatches: Vec<OutputMismatch>,
}

/// Examples of a doctest session, counted as `python -m doctest` counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExampleCounts {
    /// Examples run (not skipped).
    pub tried: u32,
    pub failed: u32,
    pub skipped: u32,
}

impl Outcome {
    /// A verdict with no error, such as `passed` or `skipped`.
    pub fn clean(category: Category, duration_ms: f64) -> Self {
        Outcome {
            status: category.status(),
            category,
            error: None,
            suggestions: Vec::new(),
            duration_ms,
            stdout: Captured::default(),
            stderr: Captured::default(),
            notes: Vec::new(),
            examples: None,
            expected: None,
            mismatches: Vec::new(),
        }
    }

    /// A failed verdict that never reached Python (timeouts, crashes, exits).
    pub fn failed(category: Category, error: SnippetError, duration_ms: f64) -> Self {
        Outcome {
            error: Some(error),
            ..Outcome::clean(category, duration_ms)
        }
    }
}

/// A snippet together with its verdict: one entry of the record's `snippets` array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnippetRecord {
    #[serde(flatten)]
    pub snippet: Snippet,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// What a failed snippet found missing, as Python's exception named it (never read back
/// from its message). It travels with the outcome, from the runner to the suggestions;
/// the record keeps only the suggestions made from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Missing {
    /// A name a module lacks: `from module import name`, `module.name`, or, with
    /// `submodule`, `import module.name`.
    Name {
        module: String,
        name: String,
        #[serde(default)]
        submodule: bool,
        /// The module as the snippet wrote it when that differs (`os.path` for
        /// `posixpath`), so suggestions use the snippet's own words.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        written: Option<String>,
    },
    /// A name the snippet uses and nothing defines (`NameError`).
    Undefined { name: String },
}

/// A snippet's verdict on its way from the runner to the record: the outcome, and what the
/// failure found missing. The record keeps the outcome (see [`Checked::into_record`]).
/// The outcome is a field of its own, not flattened: a flattened struct is read through
/// serde's buffering slow path, and every verdict of a run is read once from its worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<Missing>,
}

impl From<Outcome> for Verdict {
    fn from(outcome: Outcome) -> Self {
        Verdict {
            outcome,
            missing: None,
        }
    }
}

/// A snippet and its verdict, before the record is made.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub snippet: Snippet,
    pub verdict: Verdict,
}

impl Checked {
    pub fn into_record(self) -> SnippetRecord {
        SnippetRecord {
            snippet: self.snippet,
            outcome: self.verdict.outcome,
        }
    }
}

/// What kind of API object the prose names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReferenceKind {
    Class,
    Function,
    Module,
    Attribute,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReferenceStatus {
    Resolved,
    Unresolved,
    /// The library is not installed or failed to import.
    Unchecked,
    /// Marked as intentionally unresolved.
    Ignored,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// An API name the prose mentions, and whether it exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    pub id: String,
    pub path: String,
    pub line: u32,
    pub column: u32,
    /// The reference as written in the document.
    pub text: String,
    /// Import name of the library it belongs to (`sklearn`), if known.
    pub library: Option<String>,
    /// The name looked up (`Imputer`, `nn.RNN`).
    pub name: String,
    pub kind: ReferenceKind,
    pub status: ReferenceStatus,
    pub severity: Severity,
    /// Fully qualified name where it resolved.
    pub resolved: Option<String>,
    #[serde(default)]
    pub suggestions: Vec<String>,
    /// Why it could not be checked, when `unchecked`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A problem with the input itself (unreadable file, unterminated fence), not with a snippet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub path: String,
    pub line: Option<u32>,
    pub severity: Severity,
    pub message: String,
}

/// How a fresh verdict differs from the committed record of known results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// Failed, and the record says it passed (or did not know it).
    NewFailure,
    /// Still fails, for another reason.
    ChangedReason,
    /// The record says it fails; it passes now. The record needs `snipcheck accept`.
    NowPasses,
    /// An unresolved claim the record does not know.
    NewUnresolvedReference,
    /// The record says the claim does not resolve; it does now.
    ReferenceNowResolved,
    /// In the record, no longer in the document.
    Removed,
}

impl ChangeKind {
    /// Whether this change fails the check (a removed snippet only makes the record stale).
    pub fn fails_check(self) -> bool {
        !matches!(self, ChangeKind::Removed)
    }
}

/// One difference between the fresh run and the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub kind: ChangeKind,
    pub path: String,
    /// The snippet's or reference's id.
    pub id: String,
    pub line: u32,
    /// What the record says, e.g. `passed` or `undefined-name: NameError`.
    pub was: Option<String>,
    /// What the fresh run says.
    pub now: Option<String>,
}

/// The comparison with the committed record, when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineReport {
    /// The record file compared against.
    pub record: String,
    pub changes: Vec<Change>,
    /// Failures the record already knows about, unchanged.
    pub known_failures: u32,
}

impl BaselineReport {
    pub fn fails_check(&self) -> bool {
        self.changes.iter().any(|c| c.kind.fails_check())
    }
}

/// Counts over the record, for summaries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub documents: u32,
    pub snippets: u32,
    pub passed: u32,
    pub failed: u32,
    pub skipped: u32,
    pub references: u32,
    pub unresolved_references: u32,
    pub errors: u32,
}

/// Everything one run found. This is what `--format json|yaml` writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub schema_version: u32,
    pub tool: Tool,
    /// The interpreter the snippets ran under; absent when nothing ran.
    pub python: Option<PythonInfo>,
    /// The protections snippets ran under; absent when nothing ran.
    #[serde(default)]
    pub sandbox: Option<SandboxReport>,
    /// The comparison with the committed record of known results, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineReport>,
    /// Which part of a sharded run this record is; absent for a whole run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
    pub summary: Summary,
    pub snippets: Vec<SnippetRecord>,
    pub references: Vec<Reference>,
    pub diagnostics: Vec<Diagnostic>,
}

/// One shard of a run split across machines (`check --shard INDEX/TOTAL`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// 1-based.
    pub index: u32,
    pub total: u32,
    /// Identifies the whole set of documents the shards were cut from (a hash of their
    /// paths and contents), so that shards of different sets are never merged.
    pub fingerprint: String,
    /// Every document of the whole set, in the order an unsharded run reports them.
    pub documents: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

/// The protections that were in force while snippets ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxReport {
    pub working_folder: String,
    pub environment: String,
    pub network: String,
    pub filesystem: String,
    pub memory_limit_mb: Option<u64>,
    pub file_size_limit_mb: Option<u64>,
    pub process_limit: Option<u64>,
    pub processes: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PythonInfo {
    pub version: String,
    /// `sys.prefix` of the environment the snippets ran in.
    pub prefix: String,
}

impl Record {
    /// Builds a record and computes its summary, so the two can never disagree.
    pub fn new(
        documents: u32,
        python: Option<PythonInfo>,
        snippets: Vec<SnippetRecord>,
        references: Vec<Reference>,
        diagnostics: Vec<Diagnostic>,
    ) -> Self {
        let count = |s: Status| snippets.iter().filter(|r| r.outcome.status == s).count() as u32;
        let summary = Summary {
            documents,
            snippets: snippets.len() as u32,
            passed: count(Status::Passed),
            failed: count(Status::Failed),
            skipped: count(Status::Skipped),
            references: references.len() as u32,
            unresolved_references: references
                .iter()
                .filter(|r| r.status == ReferenceStatus::Unresolved)
                .count() as u32,
            errors: diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count() as u32,
        };
        Record {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "snipcheck".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            python,
            sandbox: None,
            baseline: None,
            shard: None,
            summary,
            snippets,
            references,
            diagnostics,
        }
    }

    /// True when a reference error should fail the run.
    pub fn has_reference_errors(&self) -> bool {
        self.references
            .iter()
            .any(|r| r.status == ReferenceStatus::Unresolved && r.severity == Severity::Error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snippet_record(category: Category) -> SnippetRecord {
        SnippetRecord {
            snippet: Snippet {
                id: "q1".into(),
                path: "doc.md".into(),
                line: 3,
                end_line: 4,
                code: "x = 1\n".into(),
                ..Snippet::default()
            },
            outcome: Outcome::clean(category, 1.5),
        }
    }

    #[test]
    fn categories_serialize_in_kebab_case() {
        for category in Category::ALL {
            let json = serde_json::to_string(&category).unwrap();
            assert_eq!(json, format!("\"{}\"", category.as_str()));
        }
    }

    #[test]
    fn snippet_record_is_flat() {
        let json = serde_json::to_value(snippet_record(Category::Passed)).unwrap();
        assert_eq!(json["id"], "q1");
        assert_eq!(json["status"], "passed");
        assert_eq!(json["category"], "passed");
        assert!(json["error"].is_null());
    }

    #[test]
    fn summary_counts_statuses() {
        let record = Record::new(
            1,
            None,
            vec![
                snippet_record(Category::Passed),
                snippet_record(Category::Timeout),
                snippet_record(Category::Skipped),
            ],
            vec![],
            vec![],
        );
        assert_eq!(record.summary.passed, 1);
        assert_eq!(record.summary.failed, 1);
        assert_eq!(record.summary.skipped, 1);
    }

    fn failing(category: Category) -> Outcome {
        Outcome::failed(
            category,
            SnippetError {
                kind: "ImportError".into(),
                message: "cannot import name 'Imputer'".into(),
                line: Some(3),
                traceback: None,
            },
            1.0,
        )
    }

    #[test]
    fn an_expected_failure_passes_and_keeps_what_happened() {
        let outcome = Expectation::default().judge(failing(Category::MissingName));
        assert_eq!(outcome.status, Status::Passed);
        assert_eq!(outcome.category, Category::MissingName);
        assert_eq!(outcome.expected.as_deref(), Some("failure"));
        assert_eq!(
            outcome.error.unwrap().message,
            "cannot import name 'Imputer'"
        );
        let json = serde_json::to_value(Expectation::default()).unwrap();
        assert_eq!(json, serde_json::json!({}));
    }

    #[test]
    fn an_expected_failure_that_passes_fails() {
        let outcome = Expectation::default().judge(Outcome::clean(Category::Passed, 1.0));
        assert_eq!(outcome.status, Status::Failed);
        assert_eq!(outcome.category, Category::Passed);
        let error = outcome.error.unwrap();
        assert_eq!(error.kind, "UnexpectedPass");
        assert_eq!(error.message, "expected to fail, but passed");
    }

    #[test]
    fn an_expected_category_must_match() {
        let expect = Expectation {
            category: Some(Category::MissingName),
            reason: None,
        };
        assert_eq!(
            expect.judge(failing(Category::MissingName)).status,
            Status::Passed
        );
        let other = expect.judge(failing(Category::Exception));
        assert_eq!(other.status, Status::Failed);
        assert_eq!(other.category, Category::Exception);
        assert_eq!(other.expected.as_deref(), Some("missing-name"));
        assert_eq!(
            other.error.unwrap().message,
            "expected to fail with `missing-name`, but failed with `exception`: cannot import name 'Imputer'"
        );
        let passed = expect.judge(Outcome::clean(Category::Passed, 1.0));
        assert_eq!(
            passed.error.unwrap().message,
            "expected to fail with `missing-name`, but passed"
        );
        // A snippet that did not run is not judged.
        let skipped = expect.judge(Outcome::clean(Category::Skipped, 0.0));
        assert_eq!(skipped.status, Status::Skipped);
        assert_eq!(skipped.expected, None);
    }
}

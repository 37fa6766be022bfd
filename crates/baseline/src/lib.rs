//! The committed record of known results, and what changed since it.
//!
//! A CI job gates on differences, not on failures: known-bad content is recorded once, and
//! the check fails only on a new failure, a changed reason, a new unresolved claim, or a
//! known failure that now passes (so the record is brought up to date with `accept`).
//!
//! The file is YAML keyed by document and snippet id, so it diffs well in review and does
//! not change when a snippet moves within its document.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use snipcheck_record::{
    BaselineReport, Category, Change, ChangeKind, Record, Reference, ReferenceStatus,
    SnippetRecord, Status,
};

/// Bumped when the file's layout changes incompatibly.
pub const BASELINE_VERSION: u32 = 1;

const HEADER: &str = "# Known results of snipcheck, compared by `snipcheck check`.\n\
                      # Rewrite it with `snipcheck accept` (or `snipcheck check --update`).\n";

/// The committed file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub schema_version: u32,
    /// Document -> snippet id -> known result.
    #[serde(default)]
    pub snippets: BTreeMap<String, BTreeMap<String, KnownSnippet>>,
    /// Document -> reference id -> known unresolved reference.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub references: BTreeMap<String, BTreeMap<String, KnownReference>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownSnippet {
    /// Where it was, for people reading the file; not compared.
    pub line: u32,
    pub status: Status,
    pub category: Category,
    /// The error's type, compared with the category: a new type is a new reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The error's message, for people; not compared (it often holds addresses or paths).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// How long it ran, in milliseconds, roughly: what `check --shard` balances shards by,
    /// since every machine of a CI matrix reads this file alike. Not compared; rewritten only
    /// when a run takes 1.5 times as long or as short (see [`settled`]), so that the file
    /// does not change with the machine's load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownReference {
    pub line: u32,
    pub text: String,
    pub status: ReferenceStatus,
}

/// What a run covered: only these documents (and, with `--select`, these snippets) are
/// compared and rewritten; the rest of the record is left as it is.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub documents: BTreeSet<String>,
    /// `Some`: only these (document, id) pairs were run.
    pub snippets: Option<BTreeSet<(String, String)>>,
}

impl Scope {
    fn covers(&self, document: &str, id: &str) -> bool {
        self.documents.contains(document)
            && self
                .snippets
                .as_ref()
                .is_none_or(|s| s.contains(&(document.to_string(), id.to_string())))
    }
}

impl Baseline {
    /// Reads the record file; `Ok(None)` when it does not exist yet.
    pub fn load(path: &Path) -> Result<Option<Baseline>, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(format!("{}: cannot read the record: {err}", path.display())),
        };
        let baseline: Baseline = serde_yaml::from_str(&text).map_err(|err| {
            let place = err
                .location()
                .map(|at| format!(":{}:{}", at.line(), at.column()))
                .unwrap_or_default();
            format!("{}{place}: not a snipcheck record: {err}", path.display())
        })?;
        if baseline.schema_version != BASELINE_VERSION {
            return Err(format!(
                "{}: record version {} is not supported (this snipcheck writes version {BASELINE_VERSION}); \
                 regenerate it with `snipcheck accept`",
                path.display(),
                baseline.schema_version
            ));
        }
        Ok(Some(baseline))
    }

    /// The file's text.
    pub fn to_yaml(&self) -> String {
        let body = serde_yaml::to_string(self).expect("a baseline always serializes");
        format!("{HEADER}{body}")
    }

    /// Replaces what the record knows about the run's scope with the run's results.
    /// `key` turns a record path into the document key used in the file.
    pub fn accept(&mut self, record: &Record, scope: &Scope, key: impl Fn(&str) -> String) {
        self.schema_version = BASELINE_VERSION;
        // The durations written before, kept while a run's are close to them.
        let mut durations: BTreeMap<(String, String), u64> = BTreeMap::new();
        for (document, known) in &self.snippets {
            for (id, snippet) in known {
                if let Some(ms) = snippet.duration_ms {
                    durations.insert((document.clone(), id.clone()), ms);
                }
            }
        }
        for document in &scope.documents {
            if scope.snippets.is_none() {
                self.snippets.remove(document);
                self.references.remove(document);
            }
        }
        for entry in &record.snippets {
            let document = key(&entry.snippet.path);
            if scope.covers(&document, &entry.snippet.id) {
                let mut known = known_snippet(entry);
                let was = durations.get(&(document.clone(), entry.snippet.id.clone()));
                known.duration_ms = settled(was.copied(), known.duration_ms);
                self.snippets
                    .entry(document)
                    .or_default()
                    .insert(entry.snippet.id.clone(), known);
            }
        }
        if scope.snippets.is_none() {
            for reference in record.references.iter().filter(|r| is_unresolved(r)) {
                self.references
                    .entry(key(&reference.path))
                    .or_default()
                    .insert(reference.id.clone(), known_reference(reference));
            }
        }
        self.snippets.retain(|_, s| !s.is_empty());
        self.references.retain(|_, r| !r.is_empty());
    }

    /// What differs between the fresh run and the record, within the run's scope.
    pub fn compare(
        &self,
        record: &Record,
        scope: &Scope,
        record_file: &str,
        key: impl Fn(&str) -> String,
    ) -> BaselineReport {
        let mut changes = Vec::new();
        let mut known_failures = 0;
        let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
        for entry in &record.snippets {
            let document = key(&entry.snippet.path);
            let id = &entry.snippet.id;
            seen.insert((document.clone(), id.clone()));
            let known = self.snippets.get(&document).and_then(|s| s.get(id));
            let now = known_snippet(entry);
            let kind = match known {
                _ if now.status == Status::Skipped => None,
                None if now.status == Status::Failed => Some(ChangeKind::NewFailure),
                None => None,
                Some(was) if was.status != Status::Failed && now.status == Status::Failed => {
                    Some(ChangeKind::NewFailure)
                }
                Some(was) if was.status == Status::Failed && now.status == Status::Passed => {
                    Some(ChangeKind::NowPasses)
                }
                Some(was) if was.status == Status::Failed => {
                    if was.category != now.category || was.error != now.error {
                        Some(ChangeKind::ChangedReason)
                    } else {
                        known_failures += 1;
                        None
                    }
                }
                Some(_) => None,
            };
            if let Some(kind) = kind {
                changes.push(Change {
                    kind,
                    path: entry.snippet.path.clone(),
                    id: id.clone(),
                    line: entry.snippet.line,
                    was: known.map(describe),
                    now: Some(describe(&now)),
                });
            }
        }
        for (document, known) in &self.snippets {
            for (id, was) in known {
                if scope.covers(document, id) && !seen.contains(&(document.clone(), id.clone())) {
                    changes.push(Change {
                        kind: ChangeKind::Removed,
                        path: document.clone(),
                        id: id.clone(),
                        line: was.line,
                        was: Some(describe(was)),
                        now: None,
                    });
                }
            }
        }
        if scope.snippets.is_none() {
            compare_references(self, record, scope, &key, &mut changes);
        }
        changes.sort_by(|a, b| (&a.path, a.line, a.kind).cmp(&(&b.path, b.line, b.kind)));
        BaselineReport {
            record: record_file.to_string(),
            changes,
            known_failures,
        }
    }
}

/// Matches the run's wrong claims with the recorded ones by their text, the same line first
/// and then in order: ids number claims of the same name, and fixing the first one would
/// renumber the rest.
fn compare_references(
    baseline: &Baseline,
    record: &Record,
    scope: &Scope,
    key: &impl Fn(&str) -> String,
    changes: &mut Vec<Change>,
) {
    for document in &scope.documents {
        let recorded: Vec<(&String, &KnownReference)> = baseline
            .references
            .get(document)
            .map(|known| known.iter().collect())
            .unwrap_or_default();
        let found: Vec<&Reference> = record
            .references
            .iter()
            .filter(|r| is_unresolved(r) && key(&r.path) == *document)
            .collect();
        let mut matched_recorded = vec![false; recorded.len()];
        let mut matched_found = vec![false; found.len()];
        for same_line in [true, false] {
            for (f, reference) in found.iter().enumerate() {
                if matched_found[f] {
                    continue;
                }
                let partner = recorded.iter().enumerate().position(|(r, (_, known))| {
                    !matched_recorded[r]
                        && known.text == reference.text
                        && (!same_line || known.line == reference.line)
                });
                if let Some(r) = partner {
                    matched_recorded[r] = true;
                    matched_found[f] = true;
                }
            }
        }
        for ((id, known), _) in recorded.iter().zip(&matched_recorded).filter(|(_, m)| !**m) {
            changes.push(Change {
                kind: ChangeKind::ReferenceNowResolved,
                path: document.clone(),
                id: (*id).clone(),
                line: known.line,
                was: Some(format!("`{}` {}", known.text, status_name(known.status))),
                now: Some("no longer a wrong claim (fixed or removed)".into()),
            });
        }
        for (reference, _) in found.iter().zip(&matched_found).filter(|(_, m)| !**m) {
            if reference.severity == snipcheck_record::Severity::Error {
                changes.push(Change {
                    kind: ChangeKind::NewUnresolvedReference,
                    path: reference.path.clone(),
                    id: reference.id.clone(),
                    line: reference.line,
                    was: None,
                    now: Some(format!(
                        "`{}` {}",
                        reference.text,
                        status_name(reference.status)
                    )),
                });
            }
        }
    }
}

fn is_unresolved(reference: &Reference) -> bool {
    reference.status == ReferenceStatus::Unresolved
}

fn status_name(status: ReferenceStatus) -> &'static str {
    match status {
        ReferenceStatus::Resolved => "resolves",
        ReferenceStatus::Unresolved => "does not resolve",
        ReferenceStatus::Unchecked => "could not be checked",
        ReferenceStatus::Ignored => "is ignored",
    }
}

fn known_snippet(entry: &SnippetRecord) -> KnownSnippet {
    let outcome = &entry.outcome;
    KnownSnippet {
        // A skipped snippet did not run: it costs nothing.
        duration_ms: (outcome.status != Status::Skipped).then(|| rounded(outcome.duration_ms)),
        line: entry.snippet.line,
        status: outcome.status,
        category: outcome.category,
        error: outcome.error.as_ref().map(|e| e.kind.clone()),
        message: outcome
            .error
            .as_ref()
            .map(|e| e.message.lines().next().unwrap_or("").to_string()),
    }
}

/// Milliseconds, to two significant digits past 100 (1234.5 -> 1200): the last digits only
/// say how loaded the machine was.
fn rounded(ms: f64) -> u64 {
    let ms = ms.max(0.0).round() as u64;
    let mut unit = 1;
    while ms / unit >= 100 {
        unit *= 10;
    }
    (ms + unit / 2) / unit * unit
}

/// The duration to write: the one written before while the run's is within a factor of 1.5
/// of it (or both are under 20 ms), else the run's.
pub fn settled(was: Option<u64>, now: Option<u64>) -> Option<u64> {
    match (was, now) {
        (Some(was), Some(now))
            if (was < 20 && now < 20) || (2 * now <= 3 * was && 2 * was <= 3 * now) =>
        {
            Some(was)
        }
        (_, now) => now,
    }
}

fn known_reference(reference: &Reference) -> KnownReference {
    KnownReference {
        line: reference.line,
        text: reference.text.clone(),
        status: reference.status,
    }
}

/// `passed`, or `undefined-name: NameError`.
fn describe(known: &KnownSnippet) -> String {
    match &known.error {
        Some(kind) if known.status == Status::Failed => format!("{}: {kind}", known.category),
        _ => known.category.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use snipcheck_record::{Outcome, Snippet, SnippetError};

    fn entry(id: &str, category: Category) -> SnippetRecord {
        let outcome = if category.status() == Status::Failed {
            Outcome::failed(
                category,
                SnippetError {
                    kind: "NameError".into(),
                    message: "name 'x' is not defined".into(),
                    line: Some(3),
                    traceback: None,
                },
                1.0,
            )
        } else {
            Outcome::clean(category, 1.0)
        };
        SnippetRecord {
            snippet: Snippet {
                id: id.into(),
                path: "docs/guide.md".into(),
                line: 3,
                end_line: 4,
                code: "x\n".into(),
                section: None,
                ..Snippet::default()
            },
            outcome,
        }
    }

    fn record(entries: Vec<SnippetRecord>) -> Record {
        Record::new(1, None, entries, vec![], vec![])
    }

    fn whole_document() -> Scope {
        Scope {
            documents: ["guide.md".to_string()].into(),
            snippets: None,
        }
    }

    fn key(path: &str) -> String {
        path.trim_start_matches("docs/").to_string()
    }

    fn kinds(baseline: &Baseline, run: &Record, scope: &Scope) -> Vec<(String, ChangeKind)> {
        baseline
            .compare(run, scope, "record.yaml", key)
            .changes
            .into_iter()
            .map(|c| (c.id, c.kind))
            .collect()
    }

    fn accepted(run: &Record) -> Baseline {
        let mut baseline = Baseline::default();
        baseline.accept(run, &whole_document(), key);
        baseline
    }

    fn timed(id: &str, ms: f64) -> SnippetRecord {
        let mut entry = entry(id, Category::Passed);
        entry.outcome.duration_ms = ms;
        entry
    }

    fn duration(baseline: &Baseline, id: &str) -> Option<u64> {
        baseline.snippets["guide.md"][id].duration_ms
    }

    #[test]
    fn durations_are_rounded_and_kept_while_a_run_is_close_to_them() {
        let mut baseline = accepted(&record(vec![
            timed("import", 6_234.0),
            timed("quick", 0.4),
            timed("fit", 812.0),
        ]));
        assert_eq!(duration(&baseline, "import"), Some(6_200));
        assert_eq!(duration(&baseline, "quick"), Some(0));
        assert_eq!(duration(&baseline, "fit"), Some(810));
        // A loaded machine: a bit slower, a bit faster; the file does not change.
        let before = baseline.clone();
        baseline.accept(
            &record(vec![
                timed("import", 8_100.0),
                timed("quick", 12.0),
                timed("fit", 600.0),
            ]),
            &whole_document(),
            key,
        );
        assert_eq!(baseline, before);
        // Twice as slow is news.
        baseline.accept(
            &record(vec![timed("import", 13_000.0)]),
            &whole_document(),
            key,
        );
        assert_eq!(duration(&baseline, "import"), Some(13_000));
        // A skipped snippet did not run: no duration.
        let skipped = accepted(&record(vec![entry("s", Category::Skipped)]));
        assert_eq!(skipped.snippets["guide.md"]["s"].duration_ms, None);
        assert!(!skipped.to_yaml().contains("duration_ms"));
    }

    #[test]
    fn known_failures_do_not_fail_the_check() {
        let run = record(vec![
            entry("a", Category::Passed),
            entry("b", Category::UndefinedName),
        ]);
        let report = accepted(&run).compare(&run, &whole_document(), "record.yaml", key);
        assert!(report.changes.is_empty());
        assert_eq!(report.known_failures, 1);
        assert!(!report.fails_check());
    }

    #[test]
    fn every_kind_of_change_is_found() {
        let baseline = accepted(&record(vec![
            entry("passes", Category::Passed),
            entry("fixed", Category::MissingName),
            entry("other-reason", Category::UndefinedName),
            entry("gone", Category::Passed),
        ]));
        let run = record(vec![
            entry("passes", Category::Exception),
            entry("fixed", Category::Passed),
            entry("other-reason", Category::MissingName),
            entry("brand-new", Category::Timeout),
            entry("brand-new-ok", Category::Passed),
        ]);
        let mut found = kinds(&baseline, &run, &whole_document());
        found.sort();
        assert_eq!(
            found,
            vec![
                ("brand-new".into(), ChangeKind::NewFailure),
                ("fixed".into(), ChangeKind::NowPasses),
                ("gone".into(), ChangeKind::Removed),
                ("other-reason".into(), ChangeKind::ChangedReason),
                ("passes".into(), ChangeKind::NewFailure),
            ]
        );
    }

    #[test]
    fn a_selected_snippet_is_compared_and_accepted_alone() {
        let mut baseline = accepted(&record(vec![
            entry("a", Category::UndefinedName),
            entry("b", Category::UndefinedName),
        ]));
        let scope = Scope {
            documents: ["guide.md".to_string()].into(),
            snippets: Some([("guide.md".to_string(), "a".to_string())].into()),
        };
        let run = record(vec![entry("a", Category::Passed)]);
        assert_eq!(
            kinds(&baseline, &run, &scope),
            vec![("a".into(), ChangeKind::NowPasses)]
        );
        baseline.accept(&run, &scope, key);
        let known = &baseline.snippets["guide.md"];
        assert_eq!(known["a"].status, Status::Passed);
        assert_eq!(known["b"].category, Category::UndefinedName, "untouched");
    }

    fn wrong_claim(id: &str, line: u32) -> Reference {
        Reference {
            id: id.into(),
            path: "docs/guide.md".into(),
            line,
            column: 5,
            text: "Imputer".into(),
            library: Some("sklearn".into()),
            name: "Imputer".into(),
            kind: snipcheck_record::ReferenceKind::Class,
            status: ReferenceStatus::Unresolved,
            severity: snipcheck_record::Severity::Error,
            resolved: None,
            suggestions: vec![],
            reason: None,
        }
    }

    #[test]
    fn fixing_one_of_several_claims_names_the_fixed_one() {
        let mut run = record(vec![]);
        run.references = vec![
            wrong_claim("imputer", 29),
            wrong_claim("imputer-2", 161),
            wrong_claim("imputer-3", 261),
        ];
        let baseline = accepted(&run);
        // The first is fixed: the others are renumbered but still known.
        run.references = vec![wrong_claim("imputer", 161), wrong_claim("imputer-2", 261)];
        let report = baseline.compare(&run, &whole_document(), "record.yaml", key);
        let found: Vec<(ChangeKind, u32)> =
            report.changes.iter().map(|c| (c.kind, c.line)).collect();
        assert_eq!(found, vec![(ChangeKind::ReferenceNowResolved, 29)]);
        // A new wrong claim is a change that fails the check.
        run.references.push(wrong_claim("imputer-3", 300));
        run.references.push(wrong_claim("imputer-4", 301));
        let report = baseline.compare(&run, &whole_document(), "record.yaml", key);
        assert!(report
            .changes
            .iter()
            .any(|c| c.kind == ChangeKind::NewUnresolvedReference));
        assert!(report.fails_check());
    }

    #[test]
    fn the_file_round_trips_and_bad_files_are_explained() {
        let baseline = accepted(&record(vec![entry("b", Category::UndefinedName)]));
        let dir = std::env::temp_dir().join(format!("snipcheck-baseline-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("record.yaml");
        std::fs::write(&path, baseline.to_yaml()).unwrap();
        assert_eq!(Baseline::load(&path).unwrap(), Some(baseline.clone()));
        insta::assert_snapshot!(baseline.to_yaml());

        std::fs::write(&path, "schema_version: 1\nsnipets: {}\n").unwrap();
        let err = Baseline::load(&path).unwrap_err();
        assert!(
            err.contains(":2:1: not a snipcheck record: unknown field `snipets`"),
            "{err}"
        );
        assert_eq!(Baseline::load(&dir.join("absent.yaml")).unwrap(), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

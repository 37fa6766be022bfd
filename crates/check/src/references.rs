//! The prose's API references: from extraction to the record's `references` array, and the
//! same suggestions for snippets that failed on a missing name.

use std::collections::BTreeMap;

use snipcheck_extract::{Document, ReferenceCandidate};
use snipcheck_python::protocol::{Answer, Query};
use snipcheck_python::resolve::{self, ResolveOptions};
use snipcheck_record::{Checked, Missing, Reference, ReferenceStatus, Severity, Snippet};

use crate::config::ReferencesConfig;

/// Seconds allowed for walking one library's modules when its index is built.
pub const DEFAULT_INDEX_BUDGET_S: f64 = 60.0;

/// A document's reference candidates, ready to be resolved.
pub struct Found {
    path: String,
    candidate: ReferenceCandidate,
    /// Indexes into the query list, one per library to try, in order.
    queries: Vec<usize>,
}

/// Extracts the references of every document and the queries that check them.
pub fn extract(
    documents: &[Document],
    snippets: &[Vec<Snippet>],
    config: &ReferencesConfig,
) -> (Vec<Found>, Vec<Query>) {
    let mut found = Vec::new();
    let mut queries = Vec::new();
    if !config.enabled() {
        return (found, queries);
    }
    let context = config.context();
    for (document, snippets) in documents.iter().zip(snippets) {
        let prose = snipcheck_extract::extract_references(document, snippets, &context);
        let code = snipcheck_extract::extract_code_references(document, snippets);
        for candidate in prose.into_iter().chain(code) {
            let mut ids = Vec::new();
            if !is_ignored(&candidate, config) {
                for library in &candidate.libraries {
                    ids.push(queries.len());
                    queries.push(Query {
                        id: queries.len(),
                        library: library.clone(),
                        name: candidate.name.clone(),
                        path: candidate.path.clone(),
                        kind: candidate.kind,
                        modules: candidate.modules.clone(),
                        suggest_only: false,
                    });
                }
            }
            found.push(Found {
                path: document.path.clone(),
                candidate,
                queries: ids,
            });
        }
    }
    (found, queries)
}

fn is_ignored(candidate: &ReferenceCandidate, config: &ReferencesConfig) -> bool {
    candidate.ignored
        || config.ignore.iter().any(|i| {
            *i == candidate.name || *i == candidate.text || Some(i) == candidate.path.as_ref()
        })
}

/// Answers every query; a worker that cannot start leaves them unchecked, saying why.
pub fn resolve(options: &ResolveOptions, queries: &[Query]) -> Vec<Answer> {
    resolve::resolve(options, queries).unwrap_or_else(|err| {
        queries
            .iter()
            .map(|q| Answer {
                id: q.id,
                status: ReferenceStatus::Unchecked,
                resolved: None,
                suggestions: Vec::new(),
                reason: Some(format!("could not check names: {err:#}")),
                module_found: false,
                not_installed: false,
                score: 0.0,
                near: false,
            })
            .collect()
    })
}

/// The record's references: each candidate with the first library it resolved in, or the
/// suggestions of the libraries it did not. `runs` are the snippets' verdicts: a name in
/// code that the run already proved missing is reported there, not again here.
pub fn records(
    found: Vec<Found>,
    answers: &[Answer],
    config: &ReferencesConfig,
    runs: &[Checked],
) -> Vec<Reference> {
    let by_id: BTreeMap<usize, &Answer> = answers.iter().map(|a| (a.id, a)).collect();
    let mut out = Vec::new();
    for Found {
        path,
        candidate: c,
        queries,
    } in found
    {
        let tried: Vec<(&String, &Answer)> = queries
            .iter()
            .zip(&c.libraries)
            .filter_map(|(id, library)| by_id.get(id).map(|a| (library, *a)))
            .collect();
        let resolved = tried
            .iter()
            .find(|(_, a)| a.status == ReferenceStatus::Resolved);
        let mut unresolved: Vec<&(&String, &Answer)> = tried
            .iter()
            .filter(|(_, a)| a.status == ReferenceStatus::Unresolved)
            .collect();
        // Missing everywhere: the library the name misspells comes first, else the one
        // with the closest real name.
        unresolved.sort_by(|a, b| (b.1.near.cmp(&a.1.near)).then(b.1.score.total_cmp(&a.1.score)));
        let mut library = c.libraries.first().cloned();
        let mut suggestions = Vec::new();
        let mut resolved_name = None;
        let (status, reason) = if is_ignored(&c, config) {
            (ReferenceStatus::Ignored, None)
        } else if let Some((lib, answer)) = resolved {
            library = Some((*lib).clone());
            resolved_name = answer.resolved.clone();
            (ReferenceStatus::Resolved, None)
        } else if let Some((lib, answer)) = unresolved.first() {
            library = Some((*lib).clone());
            for (_, a) in &unresolved {
                for s in &a.suggestions {
                    if !suggestions.contains(s) && suggestions.len() < 3 {
                        suggestions.push(s.clone());
                    }
                }
            }
            (ReferenceStatus::Unresolved, answer.reason.clone())
        } else if let Some((_, answer)) = tried.first() {
            (ReferenceStatus::Unchecked, answer.reason.clone())
        } else {
            let reason = "no library is named near it, so there is nowhere to look it up";
            (ReferenceStatus::Unchecked, Some(reason.to_string()))
        };
        // Inline code like `r.json()` or `PUT` that names nothing installed is not a
        // reference; `json.parse` is one, since `json` is a module, and so is `Tbale`,
        // a typo of a real name.
        if c.speculative && status != ReferenceStatus::Resolved {
            let module_exists = c.path.is_some() && tried.iter().any(|(_, a)| a.module_found);
            let misspelt = c.path.is_none() && unresolved.first().is_some_and(|(_, a)| a.near);
            if !module_exists && !misspelt {
                continue;
            }
        }
        // A name in code is only news when it is wrong, and the run did not already say so.
        if c.snippet.is_some()
            && (status != ReferenceStatus::Unresolved || proven_missing(&path, &c, runs))
        {
            continue;
        }
        let severity = match status {
            ReferenceStatus::Unresolved if c.explicit => Severity::Error,
            ReferenceStatus::Unresolved => config.bare.unwrap_or(Severity::Warning),
            ReferenceStatus::Unchecked if c.explicit && !tried.is_empty() => Severity::Warning,
            _ => Severity::Info,
        };
        out.push(Reference {
            id: c.id,
            path,
            line: c.line,
            column: c.column,
            text: c.text,
            library,
            name: c.name,
            kind: c.kind,
            status,
            severity,
            resolved: resolved_name,
            suggestions,
            reason,
        });
    }
    out
}

/// Whether the run of the snippet that holds code reference `c` failed on that very name:
/// the same module and name, or the same name on the same line (Python names the module
/// that defines it: `posixpath` for `from os.path import joinpath`).
fn proven_missing(path: &str, c: &ReferenceCandidate, runs: &[Checked]) -> bool {
    let wanted = c.path.as_deref().unwrap_or("");
    let leaf = wanted.rsplit('.').next().unwrap_or(wanted);
    runs.iter()
        .filter(|r| r.snippet.path == path && Some(&r.snippet.id) == c.snippet.as_ref())
        .any(|r| match &r.verdict.missing {
            Some(Missing::Name { module, name, .. }) => {
                format!("{module}.{name}") == wanted
                    || (name == leaf
                        && r.verdict.outcome.error.as_ref().and_then(|e| e.line) == Some(c.line))
            }
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use snipcheck_record::ReferenceKind;

    use super::*;

    fn candidate(explicit: bool, libraries: &[&str]) -> ReferenceCandidate {
        ReferenceCandidate {
            id: "x".into(),
            line: 1,
            column: 1,
            text: "X".into(),
            name: "X".into(),
            path: None,
            libraries: libraries.iter().map(|l| l.to_string()).collect(),
            modules: vec![],
            kind: ReferenceKind::Class,
            explicit,
            ignored: false,
            speculative: false,
            snippet: None,
        }
    }

    fn answer(id: usize, status: ReferenceStatus, suggestion: Option<&str>) -> Answer {
        Answer {
            id,
            status,
            resolved: (status == ReferenceStatus::Resolved).then(|| "lib.X".to_string()),
            suggestions: suggestion.into_iter().map(String::from).collect(),
            reason: None,
            module_found: true,
            not_installed: false,
            score: 0.0,
            near: false,
        }
    }

    fn one(
        c: ReferenceCandidate,
        queries: Vec<usize>,
        answers: &[Answer],
        config: &ReferencesConfig,
    ) -> Reference {
        let found = vec![Found {
            path: "d.md".into(),
            candidate: c,
            queries,
        }];
        records(found, answers, config, &[]).remove(0)
    }

    #[test]
    fn severity_follows_how_the_name_was_written() {
        let config = ReferencesConfig::default();
        let unresolved = [answer(0, ReferenceStatus::Unresolved, Some("lib.Y"))];
        let claim = one(candidate(true, &["lib"]), vec![0], &unresolved, &config);
        assert_eq!(
            (claim.status, claim.severity),
            (ReferenceStatus::Unresolved, Severity::Error)
        );
        assert_eq!(claim.suggestions, vec!["lib.Y"]);
        let bare = one(candidate(false, &["lib"]), vec![0], &unresolved, &config);
        assert_eq!(bare.severity, Severity::Warning);
        let strict = ReferencesConfig {
            bare: Some(Severity::Error),
            ..ReferencesConfig::default()
        };
        assert_eq!(
            one(candidate(false, &["lib"]), vec![0], &unresolved, &strict).severity,
            Severity::Error
        );
        let nowhere = one(candidate(false, &[]), vec![], &[], &config);
        assert_eq!(
            (nowhere.status, nowhere.severity),
            (ReferenceStatus::Unchecked, Severity::Info)
        );
    }

    #[test]
    fn the_first_library_that_has_it_wins() {
        let answers = [
            answer(0, ReferenceStatus::Unresolved, Some("a.Y")),
            answer(1, ReferenceStatus::Resolved, None),
        ];
        let r = one(
            candidate(true, &["a", "b"]),
            vec![0, 1],
            &answers,
            &ReferencesConfig::default(),
        );
        assert_eq!(r.status, ReferenceStatus::Resolved);
        assert_eq!(r.library.as_deref(), Some("b"));
        assert!(r.suggestions.is_empty());
    }

    #[test]
    fn missing_everywhere_the_closest_library_leads() {
        let mut far = answer(0, ReferenceStatus::Unresolved, Some("os.name"));
        far.score = 0.25;
        let mut near = answer(
            1,
            ReferenceStatus::Unresolved,
            Some("collections.namedtuple"),
        );
        near.score = 0.75;
        let r = one(
            candidate(false, &["os", "collections"]),
            vec![0, 1],
            &[far, near],
            &ReferencesConfig::default(),
        );
        assert_eq!(r.library.as_deref(), Some("collections"));
        assert_eq!(r.suggestions, vec!["collections.namedtuple", "os.name"]);
    }

    #[test]
    fn ignored_by_config_or_marker() {
        let config = ReferencesConfig {
            ignore: vec!["X".into()],
            ..ReferencesConfig::default()
        };
        let r = one(candidate(true, &["lib"]), vec![], &[], &config);
        assert_eq!(
            (r.status, r.severity),
            (ReferenceStatus::Ignored, Severity::Info)
        );
        let mut marked = candidate(true, &["lib"]);
        marked.ignored = true;
        let r = one(marked, vec![], &[], &ReferencesConfig::default());
        assert_eq!(r.status, ReferenceStatus::Ignored);
    }

    #[test]
    fn variables_in_inline_code_are_dropped() {
        let speculative = |path: &str, module_found: bool| {
            let mut c = candidate(false, &["first"]);
            c.speculative = true;
            c.path = Some(path.to_string());
            let mut a = answer(0, ReferenceStatus::Unresolved, None);
            a.module_found = module_found;
            let found = vec![Found {
                path: "d.md".into(),
                candidate: c,
                queries: vec![0],
            }];
            records(found, &[a], &ReferencesConfig::default(), &[])
        };
        // `r.json()`: `r` is no module.
        assert!(speculative("r.json", false).is_empty());
        // `json.parse`: `json` is a module without `parse`.
        let kept = speculative("json.parse", true);
        assert_eq!(kept[0].status, ReferenceStatus::Unresolved);
        assert_eq!(kept[0].severity, Severity::Warning);
        // A lone name found nowhere (`PUT`) is dropped too.
        let mut lone = candidate(false, &["PUT"]);
        lone.speculative = true;
        let found = vec![Found {
            path: "d.md".into(),
            candidate: lone,
            queries: vec![0],
        }];
        let unresolved = [answer(0, ReferenceStatus::Unresolved, None)];
        assert!(records(found, &unresolved, &ReferencesConfig::default(), &[]).is_empty());
    }

    #[test]
    fn a_lone_name_that_misspells_a_real_one_is_kept() {
        let mut lone = candidate(false, &["other", "rich"]);
        lone.speculative = true;
        let found = vec![Found {
            path: "d.md".into(),
            candidate: lone,
            queries: vec![0, 1],
        }];
        let mut far = answer(0, ReferenceStatus::Unresolved, Some("other.Tab"));
        far.score = 1.0;
        let mut near = answer(1, ReferenceStatus::Unresolved, Some("rich.table.Table"));
        near.near = true;
        let kept = records(found, &[far, near], &ReferencesConfig::default(), &[]);
        assert_eq!(kept[0].severity, Severity::Warning);
        assert_eq!(kept[0].library.as_deref(), Some("rich"));
        assert_eq!(kept[0].suggestions, vec!["rich.table.Table", "other.Tab"]);
    }
}

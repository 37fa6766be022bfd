//! Every suggestion a failed snippet gets, made here from what the runner found missing
//! (never from its message): close names from the symbol index and the runner, in the
//! snippet's own words, and the fixture or earlier snippet that defines an undefined name.

use std::path::Path;

use snipcheck_extract::{defined_names, Format};
use snipcheck_python::protocol::{Answer, Query};
use snipcheck_python::Fixture;
use snipcheck_record::{Category, Checked, Missing, ReferenceKind, Status};

/// Suggestions shown for one snippet, at most.
const MOST: usize = 3;

/// Questions for the symbol index about the snippets that failed on a missing name
/// (`from sklearn.preprocessing import Imputer`), so they get the suggestions the prose
/// gets; keyed by result index.
pub fn index_queries(results: &[Checked]) -> Vec<(usize, Query)> {
    let mut out = Vec::new();
    for (index, result) in results.iter().enumerate() {
        if result.verdict.outcome.category != Category::MissingName {
            continue;
        }
        let Some(Missing::Name {
            module,
            name,
            submodule,
            ..
        }) = &result.verdict.missing
        else {
            continue;
        };
        let library = module.split('.').next().unwrap_or(module).to_string();
        out.push((
            index,
            Query {
                id: out.len(),
                library,
                path: Some(format!("{module}.{name}")),
                name: name.clone(),
                kind: if *submodule {
                    ReferenceKind::Module
                } else {
                    ReferenceKind::Unknown
                },
                modules: vec![module.clone()],
                suggest_only: true,
            },
        ));
    }
    out
}

/// Puts the index's suggestions (`answers`, for the `asked` results; the whole library)
/// before the runner's (the same module only), and writes every missing-name suggestion
/// the way the snippet wrote the module: `os.path.join`, not `posixpath.join`.
pub fn close_names(results: &mut [Checked], asked: &[(usize, Query)], answers: &[Answer]) {
    for (index, result) in results.iter_mut().enumerate() {
        let Some(Missing::Name {
            module, written, ..
        }) = &result.verdict.missing
        else {
            continue;
        };
        let from_index = asked
            .iter()
            .position(|(asked, _)| *asked == index)
            .and_then(|at| answers.get(at))
            .map_or(&[][..], |answer| answer.suggestions.as_slice());
        let outcome = &mut result.verdict.outcome;
        let mut merged: Vec<String> = Vec::new();
        for suggestion in from_index.iter().chain(&outcome.suggestions) {
            let suggestion = match (written, suggestion.strip_prefix(module.as_str())) {
                (Some(written), Some(rest)) if rest.starts_with('.') => format!("{written}{rest}"),
                _ => suggestion.clone(),
            };
            if !merged.contains(&suggestion) && merged.len() < MOST {
                merged.push(suggestion);
            }
        }
        outcome.suggestions = merged;
    }
}

/// Adds to each `undefined-name` failure what would define the missing name: one of the
/// config's `fixtures`, or an earlier snippet of the same document with the session marker
/// that would chain the two.
pub fn definitions(results: &mut [Checked], fixtures: &[Fixture]) {
    for index in 0..results.len() {
        let result = &results[index];
        if result.verdict.outcome.status != Status::Failed
            || result.verdict.outcome.category != Category::UndefinedName
        {
            continue;
        }
        let Some(Missing::Undefined { name }) = &result.verdict.missing else {
            continue;
        };
        let name = name.as_str();
        let snippet = &result.snippet;
        let mut hints = Vec::new();
        for fixture in fixtures {
            if !snippet.fixtures.contains(&fixture.name)
                && defined_names(&fixture.code).contains(name)
            {
                let how = match marker(&snippet.path, "fixture", &fixture.name) {
                    Some(marker) => format!(
                        "apply it with {marker} before the block, or in the config's `fixtures:`"
                    ),
                    None => format!(
                        "apply it in the config: `snippets: {{{}: {{fixture: {}}}}}`, or list the document or section under `fixtures: {}:`",
                        snippet.id, fixture.name, fixture.name
                    ),
                };
                hints.push(format!(
                    "the fixture `{}` ({}) defines `{name}`: {how}",
                    fixture.name, fixture.path,
                ));
            }
        }
        let earlier = results[..index].iter().rev().find(|r| {
            r.snippet.path == snippet.path
                && (r.snippet.session.is_none() || r.snippet.session != snippet.session)
                && defined_names(&r.snippet.code).contains(name)
        });
        if let Some(earlier) = earlier {
            let session = earlier
                .snippet
                .session
                .as_ref()
                .unwrap_or(&earlier.snippet.id);
            let how = match marker(&snippet.path, "session", session) {
                Some(marker) => format!("with {marker} before both blocks"),
                None => {
                    format!(": `session: {session}` in the config's `snippets:` entries of both")
                }
            };
            hints.push(format!(
                "the snippet `{}` (line {}) defines `{name}`: run the two in one session{}{how}",
                earlier.snippet.id,
                earlier.snippet.line,
                if how.starts_with(':') { "" } else { " " },
            ));
        }
        let outcome = &mut results[index].verdict.outcome;
        // A remembered verdict may carry these hints already.
        outcome.suggestions.retain(|s| !hints.contains(s));
        hints.append(&mut outcome.suggestions);
        outcome.suggestions = hints;
    }
}

/// A marker as the snippet's document writes it; `None` for formats that cannot hold
/// one (plain text: the config's `snippets:` holds its markers).
fn marker(path: &str, key: &str, value: &str) -> Option<String> {
    match Format::for_path(Path::new(path))? {
        Format::Markdown | Format::Html => Some(format!("`<!-- snipcheck: {key}={value} -->`")),
        Format::Rst => Some(format!("`.. snipcheck: {key}={value}`")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use snipcheck_record::{Outcome, ReferenceStatus, Snippet, SnippetError, Verdict};

    use super::*;

    fn failed(id: &str, line: u32, code: &str, category: Category, missing: Missing) -> Checked {
        let error = SnippetError {
            kind: "ImportError".into(),
            // Not what Python says: the suggestions must not depend on the message.
            message: "(message)".into(),
            line: Some(line),
            traceback: None,
        };
        Checked {
            snippet: Snippet {
                id: id.into(),
                path: "guide.md".into(),
                line,
                end_line: line + 1,
                code: code.into(),
                ..Snippet::default()
            },
            verdict: Verdict {
                outcome: Outcome::failed(category, error, 1.0),
                missing: Some(missing),
            },
        }
    }

    fn missing_name(module: &str, name: &str, submodule: bool, written: Option<&str>) -> Missing {
        Missing::Name {
            module: module.into(),
            name: name.into(),
            submodule,
            written: written.map(String::from),
        }
    }

    fn answer(suggestions: &[&str]) -> Answer {
        Answer {
            id: 0,
            status: ReferenceStatus::Unresolved,
            resolved: None,
            suggestions: suggestions.iter().map(|s| s.to_string()).collect(),
            reason: None,
            module_found: true,
            not_installed: false,
            score: 0.0,
            near: false,
        }
    }

    #[test]
    fn the_index_is_asked_about_each_missing_name() {
        let results = [
            failed(
                "a",
                1,
                "",
                Category::MissingName,
                missing_name("sklearn.preprocessing", "Imputer", false, None),
            ),
            failed(
                "b",
                5,
                "",
                Category::MissingName,
                missing_name("sklearn", "cross_validation", true, None),
            ),
            failed(
                "c",
                9,
                "",
                Category::UndefinedName,
                Missing::Undefined { name: "x".into() },
            ),
        ];
        let asked = index_queries(&results);
        assert_eq!(asked.len(), 2);
        let (index, query) = &asked[0];
        assert_eq!(*index, 0);
        assert_eq!(query.library, "sklearn");
        assert_eq!(query.path.as_deref(), Some("sklearn.preprocessing.Imputer"));
        assert_eq!(query.modules, ["sklearn.preprocessing"]);
        assert_eq!(query.kind, ReferenceKind::Unknown);
        assert!(query.suggest_only);
        assert_eq!((asked[1].0, asked[1].1.kind), (1, ReferenceKind::Module));
        assert_eq!(asked[1].1.id, 1);
    }

    #[test]
    fn index_suggestions_come_first_in_the_snippets_words() {
        let mut results = [failed(
            "a",
            1,
            "",
            Category::MissingName,
            missing_name("posixpath", "joinn", false, Some("os.path")),
        )];
        results[0].verdict.outcome.suggestions = vec!["posixpath.join".into()];
        let asked = index_queries(&results);
        let answers = [answer(&[
            "posixpath.join",
            "posixpath.joinpath",
            "os.fspath",
        ])];
        close_names(&mut results, &asked, &answers);
        assert_eq!(
            results[0].verdict.outcome.suggestions,
            ["os.path.join", "os.path.joinpath", "os.fspath"]
        );
        // Without the index (an interrupted run), the runner's are still rewritten.
        let mut alone = [failed(
            "a",
            1,
            "",
            Category::MissingName,
            missing_name("posixpath", "joinn", false, Some("os.path")),
        )];
        alone[0].verdict.outcome.suggestions = vec!["posixpath.join".into()];
        close_names(&mut alone, &[], &[]);
        assert_eq!(alone[0].verdict.outcome.suggestions, ["os.path.join"]);
    }

    #[test]
    fn an_undefined_name_points_at_a_fixture_and_an_earlier_snippet() {
        let defines = Checked {
            snippet: Snippet {
                id: "load".into(),
                path: "guide.md".into(),
                line: 3,
                end_line: 4,
                code: "data = [1, 2]\n".into(),
                ..Snippet::default()
            },
            verdict: Outcome::clean(Category::Passed, 1.0).into(),
        };
        let uses = failed(
            "use",
            10,
            "print(data)\n",
            Category::UndefinedName,
            Missing::Undefined {
                name: "data".into(),
            },
        );
        let fixture = Fixture {
            name: "sample".into(),
            path: "fixtures/sample.py".into(),
            code: "data = []\n".into(),
        };
        let mut results = [defines, uses];
        definitions(&mut results, &[fixture]);
        let hints = &results[1].verdict.outcome.suggestions;
        assert_eq!(hints.len(), 2, "{hints:?}");
        assert!(hints[0].starts_with("the fixture `sample` (fixtures/sample.py) defines `data`: apply it with `<!-- snipcheck: fixture=sample -->`"), "{hints:?}");
        assert!(hints[1].starts_with("the snippet `load` (line 3) defines `data`: run the two in one session with `<!-- snipcheck: session=load -->`"), "{hints:?}");
        // Run again over a remembered verdict: the hints are not repeated.
        definitions(&mut results, &[]);
        assert_eq!(results[1].verdict.outcome.suggestions.len(), 2);
    }
}

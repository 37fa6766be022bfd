//! Which replacement a wrong API name gets, and whether applying it is safe.
//!
//! A fix is safe when the first suggestion is of the kind the prose claims (a class for
//! "an Imputer class", a function for `r_squared` written in snake case) and keeps the
//! qualification the writer used (`nn.Moudle` -> `nn.Module`). Anything else (a function
//! offered for a claimed class, as `compute_class_weight` for `ClassWeight`, or a name in
//! another module) changes what the sentence says: it is only listed, or applied on request.

use snipcheck_record::{Reference, ReferenceKind, ReferenceStatus};

/// One replacement of a name as written in a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub path: String,
    /// Where the written name starts: 1-based line and character column.
    pub line: u32,
    pub column: u32,
    /// The name as written, which the fix replaces.
    pub written: String,
    pub replacement: String,
    pub safety: Safety,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Safety {
    Safe,
    /// Applied only when asked (`--unsafe-fixes`), for this reason.
    Unsafe(String),
}

impl Fix {
    pub fn is_safe(&self) -> bool {
        self.safety == Safety::Safe
    }
}

/// The fixes the record's wrong names call for: one per unresolved reference that has a
/// suggestion, in document order.
pub fn fixes_for(references: &[Reference]) -> Vec<Fix> {
    let mut fixes: Vec<Fix> = references
        .iter()
        .filter(|r| r.status == ReferenceStatus::Unresolved)
        .filter_map(|reference| {
            let suggestion = reference.suggestions.first()?;
            let (replacement, safety) = replacement(reference, suggestion);
            Some(Fix {
                path: reference.path.clone(),
                line: reference.line,
                column: reference.column,
                written: reference.text.clone(),
                replacement,
                safety,
            })
        })
        .collect();
    fixes.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
    fixes
}

/// How the suggestion is written in place of `reference.text`, and whether that is safe.
fn replacement(reference: &Reference, suggestion: &str) -> (String, Safety) {
    let written: Vec<&str> = reference.text.split('.').collect();
    let suggested: Vec<&str> = suggestion.split('.').collect();
    let leaf = suggested[suggested.len() - 1];
    let kept = kept_qualification(&written, &suggested);
    let replacement = match kept {
        Some(prefix) if prefix.is_empty() => leaf.to_string(),
        Some(prefix) => format!("{prefix}.{leaf}"),
        None => {
            return (
                suggestion.to_string(),
                Safety::Unsafe(format!(
                    "`{suggestion}` lives in another module than the text says"
                )),
            )
        }
    };
    let written_leaf = written[written.len() - 1];
    let claimed = match reference.kind {
        ReferenceKind::Class => Style::Camel,
        ReferenceKind::Function => Style::Snake,
        // No kind in the sentence: the way the writer wrote the name says it.
        ReferenceKind::Attribute | ReferenceKind::Module | ReferenceKind::Unknown => {
            Style::of(written_leaf)
        }
    };
    if Style::of(leaf) == claimed {
        (replacement, Safety::Safe)
    } else {
        (
            replacement,
            Safety::Unsafe(format!(
                "the text names {}, `{leaf}` is {}",
                claimed.what(),
                Style::of(leaf).what()
            )),
        )
    }
}

/// The qualification written before the name, when the suggestion lives where the text
/// says (`nn` for `nn.Moudle` -> `torch.nn.Module`; a first part may be an alias, as `np`
/// for numpy); `None` when the suggestion is in another module.
fn kept_qualification(written: &[&str], suggested: &[&str]) -> Option<String> {
    let qualifiers = &written[..written.len() - 1];
    if qualifiers.is_empty() {
        return Some(String::new());
    }
    if suggested.len() < written.len() {
        return None;
    }
    let aligned = &suggested[suggested.len() - written.len()..suggested.len() - 1];
    let same = qualifiers
        .iter()
        .zip(aligned)
        .enumerate()
        .all(|(i, (w, s))| w == s || (i == 0 && suggested.len() == written.len()));
    same.then(|| qualifiers.join("."))
}

/// How a name is spelled, which says what it names in Python's conventions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// `SimpleImputer`: a class.
    Camel,
    /// `r2_score`: a function, module or attribute.
    Snake,
    /// `PI`, `MAX_SIZE`: a constant.
    Constant,
}

impl Style {
    fn of(name: &str) -> Style {
        let has_lower = name.chars().any(char::is_lowercase);
        let has_upper = name.chars().any(char::is_uppercase);
        match (name.chars().next(), has_lower, has_upper) {
            (Some(first), true, _) if first.is_uppercase() => Style::Camel,
            (_, false, true) => Style::Constant,
            _ => Style::Snake,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Style::Camel => "a class",
            Style::Snake => "a function or module",
            Style::Constant => "a constant",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use snipcheck_record::Severity;

    fn reference(text: &str, kind: ReferenceKind, suggestions: &[&str]) -> Reference {
        Reference {
            id: "id".into(),
            path: "guide.txt".into(),
            line: 3,
            column: 7,
            text: text.into(),
            library: Some("sklearn".into()),
            name: text.into(),
            kind,
            status: ReferenceStatus::Unresolved,
            severity: Severity::Error,
            resolved: None,
            suggestions: suggestions.iter().map(|s| s.to_string()).collect(),
            reason: None,
        }
    }

    fn fix(text: &str, kind: ReferenceKind, suggestions: &[&str]) -> (String, bool) {
        let fixes = fixes_for(&[reference(text, kind, suggestions)]);
        (fixes[0].replacement.clone(), fixes[0].is_safe())
    }

    #[test]
    fn a_class_of_the_claimed_kind_is_a_safe_fix() {
        let suggestions = ["sklearn.impute.SimpleImputer", "sklearn.impute.KNNImputer"];
        assert_eq!(
            fix("Imputer", ReferenceKind::Class, &suggestions),
            ("SimpleImputer".into(), true)
        );
    }

    #[test]
    fn a_snake_case_name_gets_a_function_safely() {
        let suggestions = ["sklearn.metrics.r2_score"];
        assert_eq!(
            fix("r_squared", ReferenceKind::Unknown, &suggestions),
            ("r2_score".into(), true)
        );
    }

    #[test]
    fn a_function_for_a_claimed_class_is_unsafe() {
        let suggestions = ["sklearn.utils.class_weight.compute_class_weight"];
        let fixes = fixes_for(&[reference("ClassWeight", ReferenceKind::Class, &suggestions)]);
        assert_eq!(fixes[0].replacement, "compute_class_weight");
        assert_eq!(
            fixes[0].safety,
            Safety::Unsafe(
                "the text names a class, `compute_class_weight` is a function or module".into()
            )
        );
    }

    #[test]
    fn the_written_qualification_is_kept_when_the_suggestion_lives_there() {
        let nn = ["torch.nn.Module"];
        assert_eq!(
            fix("nn.Moudle", ReferenceKind::Unknown, &nn),
            ("nn.Module".into(), true)
        );
        // An alias for the library's own name.
        let numpy = ["numpy.array"];
        assert_eq!(
            fix("np.arrya", ReferenceKind::Unknown, &numpy),
            ("np.array".into(), true)
        );
        // Another module than the one written: the whole path, and only on request.
        let elsewhere = ["sklearn.impute.SimpleImputer"];
        assert_eq!(
            fix(
                "sklearn.preprocessing.Imputer",
                ReferenceKind::Class,
                &elsewhere
            ),
            ("sklearn.impute.SimpleImputer".into(), false)
        );
    }

    #[test]
    fn resolved_names_and_names_without_suggestions_get_no_fix() {
        let mut resolved = reference("SimpleImputer", ReferenceKind::Class, &["x.SimpleImputer"]);
        resolved.status = ReferenceStatus::Resolved;
        let bare = reference("Nothing", ReferenceKind::Class, &[]);
        assert!(fixes_for(&[resolved, bare]).is_empty());
    }
}

//! Applying replacements to a document's text, with the article before a name kept right.

use crate::names::{Fix, Safety};

/// The text after the fixes, what was applied, and what was not (and why).
#[derive(Debug, Default)]
pub struct Applied {
    pub text: String,
    pub applied: Vec<Fix>,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug)]
pub struct Skipped {
    pub fix: Fix,
    pub why: String,
}

/// Applies the safe fixes (and the unsafe ones when `unsafe_fixes`) to `document`. A fix
/// whose name is no longer where the record says is skipped, never guessed.
pub fn apply(document: &str, fixes: &[Fix], unsafe_fixes: bool) -> Applied {
    let mut applied = Applied::default();
    // Byte ranges first, on the text as read; then replaced from the end, so earlier ranges
    // stay valid.
    let mut edits: Vec<(std::ops::Range<usize>, String, Fix)> = Vec::new();
    for fix in fixes {
        if let (Safety::Unsafe(reason), false) = (&fix.safety, unsafe_fixes) {
            applied.skipped.push(Skipped {
                fix: fix.clone(),
                why: format!("{reason}; --unsafe-fixes applies it"),
            });
            continue;
        }
        match locate(document, fix) {
            Some(start) => {
                let end = start + fix.written.len();
                let (start, replacement) = with_article(document, start, &fix.replacement);
                edits.push((start..end, replacement, fix.clone()));
            }
            None => applied.skipped.push(Skipped {
                fix: fix.clone(),
                why: format!(
                    "`{}` is no longer at line {}, column {}",
                    fix.written, fix.line, fix.column
                ),
            }),
        }
    }
    edits.sort_by_key(|(range, _, _)| std::cmp::Reverse(range.start));
    // Two fixes of one place (the same name reported twice) apply once.
    edits.dedup_by_key(|(range, _, _)| range.start);
    let mut text = document.to_string();
    for (range, replacement, fix) in edits {
        text.replace_range(range, &replacement);
        applied.applied.push(fix);
    }
    applied.applied.reverse();
    applied.text = text;
    applied
}

/// The byte offset of `fix.written` at its line and (character) column, if it is there.
fn locate(document: &str, fix: &Fix) -> Option<usize> {
    let line_start = if fix.line <= 1 {
        0
    } else {
        document
            .match_indices('\n')
            .nth(fix.line as usize - 2)
            .map(|(at, _)| at + 1)?
    };
    let line_end = document[line_start..]
        .find('\n')
        .map_or(document.len(), |at| line_start + at);
    let line = &document[line_start..line_end];
    let column = (fix.column.max(1) - 1) as usize;
    let offset = match line.char_indices().nth(column) {
        Some((at, _)) => at,
        None => return None,
    };
    let start = line_start + offset;
    document[start..line_end]
        .starts_with(&fix.written)
        .then_some(start)
}

/// Whole lines to write in place of others: `count` lines from `line` (1-based) are
/// replaced by `lines` (none: removed; `count` 0: inserted before `line`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineEdit {
    pub line: u32,
    pub count: u32,
    /// Without their line breaks: the document's own are used.
    pub lines: Vec<String>,
}

/// Applies line edits that do not overlap, each to the lines as numbered in `document`.
pub fn apply_lines(document: &str, edits: &[LineEdit]) -> String {
    let mut lines: Vec<&str> = document.split_inclusive('\n').collect();
    let line_break = if document.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let mut sorted: Vec<&LineEdit> = edits.iter().collect();
    // From the end, so that the earlier edits' line numbers still hold.
    sorted.sort_by_key(|e| std::cmp::Reverse(e.line));
    let written: Vec<Vec<String>> = sorted
        .iter()
        .map(|e| e.lines.iter().map(|l| format!("{l}{line_break}")).collect())
        .collect();
    for (edit, new) in sorted.iter().zip(&written) {
        let start = (edit.line.max(1) - 1) as usize;
        let start = start.min(lines.len());
        let end = (start + edit.count as usize).min(lines.len());
        // A last line without a break keeps going without one.
        let unterminated = end == lines.len() && lines.last().is_some_and(|l| !l.ends_with('\n'));
        let mut new: Vec<&str> = new.iter().map(String::as_str).collect();
        if unterminated && edit.count > 0 {
            if let Some(last) = new.last_mut() {
                *last = last.trim_end_matches(['\n', '\r']);
            }
        }
        lines.splice(start..end, new);
    }
    lines.concat()
}

/// When an article stands right before the name ("an Imputer"), the replacement starts at
/// the article and carries the one that fits the new name ("a SimpleImputer").
fn with_article(document: &str, start: usize, replacement: &str) -> (usize, String) {
    let before = &document[..start];
    for article in ["an ", "a ", "An ", "A "] {
        let Some(at) = before.strip_suffix(article).map(str::len) else {
            continue;
        };
        // A word of its own: "a" in "data " is no article.
        let standalone = before[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        if !standalone {
            continue;
        }
        let capital = article.starts_with('A');
        let fitting = match (needs_an(replacement), capital) {
            (true, true) => "An ",
            (true, false) => "an ",
            (false, true) => "A ",
            (false, false) => "a ",
        };
        return (at, format!("{fitting}{replacement}"));
    }
    (start, replacement.to_string())
}

/// Whether a name is read with "an": a vowel first, or an acronym whose first letter is
/// spoken with one (`an SVM`, `an HTTPClient`).
fn needs_an(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let second = chars.next();
    let acronym = first.is_uppercase() && second.is_some_and(char::is_uppercase);
    if acronym {
        return "AEFHILMNORSX".contains(first);
    }
    "aeiouAEIOU".contains(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(line: u32, column: u32, written: &str, replacement: &str, safe: bool) -> Fix {
        Fix {
            path: "doc.txt".into(),
            line,
            column,
            written: written.into(),
            replacement: replacement.into(),
            safety: if safe {
                Safety::Safe
            } else {
                Safety::Unsafe("another kind".into())
            },
        }
    }

    const GUIDE: &str =
        "Q5.\n\nscikit-learn provides an Imputer class.\nUse r_squared, and a ClassWeight class.\n";

    #[test]
    fn replaces_names_and_their_articles_and_nothing_else() {
        let fixes = [
            fix(3, 26, "Imputer", "SimpleImputer", true),
            fix(4, 5, "r_squared", "r2_score", true),
            fix(4, 22, "ClassWeight", "compute_class_weight", false),
        ];
        let applied = apply(GUIDE, &fixes, false);
        assert_eq!(
            applied.text,
            "Q5.\n\nscikit-learn provides a SimpleImputer class.\nUse r2_score, and a ClassWeight class.\n"
        );
        assert_eq!(applied.applied.len(), 2);
        assert_eq!(applied.skipped.len(), 1);
        assert!(applied.skipped[0].why.contains("--unsafe-fixes"));

        let all = apply(GUIDE, &fixes, true);
        assert!(
            all.text.contains("and a compute_class_weight class"),
            "{}",
            all.text
        );
        assert_eq!(all.applied.len(), 3);
    }

    #[test]
    fn a_name_that_moved_is_skipped_not_guessed() {
        let applied = apply(
            GUIDE,
            &[fix(3, 10, "Imputer", "SimpleImputer", true)],
            false,
        );
        assert_eq!(applied.text, GUIDE);
        assert!(applied.skipped[0].why.contains("no longer at line 3"));
        // Past the end of the document or of the line.
        assert_eq!(
            apply(GUIDE, &[fix(40, 1, "Imputer", "X", true)], false).text,
            GUIDE
        );
        assert_eq!(
            apply(GUIDE, &[fix(1, 90, "Imputer", "X", true)], false).text,
            GUIDE
        );
    }

    #[test]
    fn articles_follow_the_new_name() {
        let text = "An Imputer, a Model, data Imputer, A Model\n";
        let fixes = [
            fix(1, 4, "Imputer", "Scaler", true),
            fix(1, 15, "Model", "Estimator", true),
            fix(1, 27, "Imputer", "SVM", true),
            fix(1, 38, "Model", "SVM", true),
        ];
        assert_eq!(
            apply(text, &fixes, false).text,
            "A Scaler, an Estimator, data SVM, An SVM\n"
        );
    }

    #[test]
    fn line_edits_replace_insert_and_remove_whole_lines() {
        let text = "a\nb\nc\nd";
        let edits = [
            LineEdit {
                line: 2,
                count: 1,
                lines: vec!["B1".into(), "B2".into()],
            },
            LineEdit {
                line: 4,
                count: 0,
                lines: vec!["before d".into()],
            },
            LineEdit {
                line: 3,
                count: 1,
                lines: vec![],
            },
        ];
        assert_eq!(apply_lines(text, &edits), "a\nB1\nB2\nbefore d\nd");
        // The last line keeps having no break; CRLF documents keep theirs.
        let last = LineEdit {
            line: 2,
            count: 1,
            lines: vec!["y".into()],
        };
        assert_eq!(apply_lines("x\nz", std::slice::from_ref(&last)), "x\ny");
        assert_eq!(apply_lines("x\r\nz\r\n", &[last]), "x\r\ny\r\n");
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "Café’s Imputer\n";
        let applied = apply(text, &[fix(1, 8, "Imputer", "SimpleImputer", true)], false);
        assert_eq!(applied.text, "Café’s SimpleImputer\n");
    }
}

//! A record's findings in one document, in the protocol's terms: diagnostics, code actions
//! from the fixes, hovers. Positions are 0-based lines and UTF-16 columns, as LSP counts.

use serde_json::{json, Value};
use snipcheck_fix::{apply, fixes_for, Safety};
use snipcheck_record::{Record, ReferenceStatus, Severity, Status};

/// The diagnostics of `path` in `record`, placed in `text`.
pub fn diagnostics(record: &Record, path: &str, text: &str) -> Vec<Value> {
    let lines: Vec<&str> = text.split('\n').collect();
    let whole_line = |line: u32| {
        let index = line.saturating_sub(1) as usize;
        let length = lines
            .get(index)
            .map_or(0, |l| utf16_len(l.trim_end_matches('\r')));
        range(index, 0, index, length)
    };
    let mut found = Vec::new();
    for snippet in record.snippets.iter().filter(|s| s.snippet.path == path) {
        if snippet.outcome.status != Status::Failed {
            continue;
        }
        let error = snippet.outcome.error.as_ref();
        let line = error.and_then(|e| e.line).unwrap_or(snippet.snippet.line);
        let mut message = match error {
            Some(error) => format!("{}: {}", error.kind, error.message),
            None => "the example failed".to_string(),
        };
        if let Some(first) = snippet.outcome.suggestions.first() {
            message.push_str(&format!("; did you mean `{first}`?"));
        }
        found.push(json!({
            "range": whole_line(line),
            "severity": 1,
            "code": snippet.outcome.category.as_str(),
            "source": "snipcheck",
            "message": message,
        }));
    }
    for reference in record.references.iter().filter(|r| r.path == path) {
        if reference.status != ReferenceStatus::Unresolved {
            continue;
        }
        let index = reference.line.saturating_sub(1) as usize;
        let line = lines.get(index).copied().unwrap_or("");
        let start = utf16_column(line, reference.column);
        let mut message = match &reference.library {
            Some(library) => format!("`{}` not found in {library}", reference.text),
            None => format!("`{}` not found", reference.text),
        };
        if let Some(first) = reference.suggestions.first() {
            message.push_str(&format!("; did you mean `{first}`?"));
        }
        found.push(json!({
            "range": range(index, start, index, start + utf16_len(&reference.text)),
            "severity": severity(reference.severity),
            "code": "wrong-name",
            "source": "snipcheck",
            "message": message,
        }));
    }
    for diagnostic in record.diagnostics.iter().filter(|d| d.path == path) {
        found.push(json!({
            "range": whole_line(diagnostic.line.unwrap_or(1)),
            "severity": severity(diagnostic.severity),
            "code": "input",
            "source": "snipcheck",
            "message": diagnostic.message,
        }));
    }
    found
}

/// Code actions for the fixes whose name lies on the lines `first..=last` (0-based).
pub fn code_actions(
    record: &Record,
    path: &str,
    uri: &str,
    text: &str,
    first: u32,
    last: u32,
) -> Vec<Value> {
    let mut actions = Vec::new();
    for fix in fixes_for(&record.references) {
        let line = fix.line.saturating_sub(1);
        if fix.path != path || line < first || line > last {
            continue;
        }
        let applied = apply(text, std::slice::from_ref(&fix), true);
        let Some(edit) = minimal_edit(text, &applied.text) else {
            continue;
        };
        let title = match &fix.safety {
            Safety::Safe => format!("Replace `{}` with `{}`", fix.written, fix.replacement),
            Safety::Unsafe(why) => {
                format!(
                    "Replace `{}` with `{}` (unsafe: {why})",
                    fix.written, fix.replacement
                )
            }
        };
        actions.push(json!({
            "title": title,
            "kind": "quickfix",
            "isPreferred": fix.is_safe(),
            "edit": { "changes": { uri: [edit] } },
        }));
    }
    actions
}

/// What to show on hover at a 0-based line and UTF-16 column: a name's home or verdict, or
/// the example's last verdict and output.
pub fn hover(record: &Record, path: &str, text: &str, line: u32, character: u32) -> Option<String> {
    let lines: Vec<&str> = text.split('\n').collect();
    let line_text = lines.get(line as usize).copied().unwrap_or("");
    for reference in record.references.iter().filter(|r| r.path == path) {
        if reference.line != line + 1 {
            continue;
        }
        let start = utf16_column(line_text, reference.column);
        if character < start || character > start + utf16_len(&reference.text) {
            continue;
        }
        return Some(match (&reference.resolved, reference.suggestions.first()) {
            (Some(home), _) => format!("`{}` is `{home}`", reference.text),
            (None, Some(first)) => format!(
                "`{}` does not exist; did you mean `{first}`?",
                reference.text
            ),
            (None, None) => format!("`{}`: {:?}", reference.text, reference.status),
        });
    }
    let snippet = record.snippets.iter().find(|s| {
        let first = s.snippet.line;
        let last = first + s.snippet.code.lines().count() as u32;
        s.snippet.path == path && (first..=last).contains(&(line + 1))
    })?;
    let mut shown = format!(
        "example `{}`: {}",
        snippet.snippet.id,
        snippet.outcome.category.as_str()
    );
    if let Some(error) = &snippet.outcome.error {
        shown.push_str(&format!("\n\n{}: {}", error.kind, error.message));
    }
    let output = &snippet.outcome.stdout.text;
    if !output.is_empty() {
        shown.push_str(&format!("\n\n```\n{}\n```", output.trim_end()));
    }
    Some(shown)
}

/// The one edit that turns `before` into `after` (they differ in one stretch here).
fn minimal_edit(before: &str, after: &str) -> Option<Value> {
    if before == after {
        return None;
    }
    let prefix = before
        .char_indices()
        .zip(after.chars())
        .find(|((_, a), b)| a != b)
        .map_or(before.len().min(after.len()), |((i, _), _)| i);
    let suffix = before[prefix..]
        .chars()
        .rev()
        .zip(after[prefix..].chars().rev())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a.len_utf8())
        .sum::<usize>();
    // Whole words: a client shows `Ordereddict` -> `OrderedDict`, not `d` -> `D`.
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut prefix = prefix;
    while let Some(c) = before[..prefix].chars().next_back().filter(|&c| word(c)) {
        prefix -= c.len_utf8();
    }
    let mut suffix = suffix;
    while let Some(c) = before[before.len() - suffix..]
        .chars()
        .next()
        .filter(|&c| word(c) && suffix > 0)
    {
        suffix -= c.len_utf8();
    }
    let end = before.len() - suffix;
    let replacement = &after[prefix..after.len() - suffix];
    let (start_line, start_column) = position(before, prefix);
    let (end_line, end_column) = position(before, end);
    Some(json!({
        "range": range(start_line, start_column, end_line, end_column),
        "newText": replacement,
    }))
}

/// The 0-based line and UTF-16 column of a byte offset.
fn position(text: &str, offset: usize) -> (usize, u32) {
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, utf16_len(&before[line_start..]))
}

/// The UTF-16 column of a record's 1-based character column in `line`.
fn utf16_column(line: &str, column: u32) -> u32 {
    let chars = column.saturating_sub(1) as usize;
    line.chars().take(chars).map(|c| c.len_utf16() as u32).sum()
}

fn utf16_len(text: &str) -> u32 {
    text.encode_utf16().count() as u32
}

fn range(start_line: usize, start: u32, end_line: usize, end: u32) -> Value {
    json!({
        "start": { "line": start_line, "character": start },
        "end": { "line": end_line, "character": end },
    })
}

fn severity(severity: Severity) -> u8 {
    match severity {
        Severity::Error => 1,
        Severity::Warning => 2,
        Severity::Info => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_minimal_edit_covers_only_what_changed() {
        let edit = minimal_edit(
            "provides an Imputer class\n",
            "provides a SimpleImputer class\n",
        )
        .unwrap();
        assert_eq!(edit["newText"], "a SimpleImputer");
        assert_eq!(edit["range"]["start"]["character"], 9);
        assert_eq!(edit["range"]["end"]["character"], 19);
        let edit = minimal_edit("an Ordereddict.", "an OrderedDict.").unwrap();
        assert_eq!(edit["newText"], "OrderedDict");
        assert_eq!(edit["range"]["start"]["character"], 3);
        assert_eq!(minimal_edit("same", "same"), None);
    }

    #[test]
    fn columns_are_counted_in_utf16() {
        // "𝑥" is two UTF-16 units: the name after it starts at unit 3, character 3 (1-based).
        assert_eq!(utf16_column("𝑥 Imputer", 3), 3);
        assert_eq!(position("a\n𝑥b", 7), (1, 3));
    }
}

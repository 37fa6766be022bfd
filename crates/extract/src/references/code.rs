//! Names the examples' code takes from what it imports: `from m import n`, `import a.b`, and
//! attribute chains on imported names (`np.linalg.norm`, `imgaug.Augmenter`).
//!
//! They are checked statically against the same index as the prose, so a wrong one is
//! reported (with its line and a suggestion) even when the run stops before reaching it.
//! Nothing here runs Python; strings and comments are left out before reading.

use std::collections::HashSet;

use snipcheck_record::{ReferenceKind, Snippet, SnippetKind};

use super::ReferenceCandidate;
use crate::python_text::{imports, is_dotted_path, is_identifier, Import};

/// The code references of every snippet, each located at its document line and column.
pub(super) fn code_references(doc_text: &str, snippets: &[Snippet]) -> Vec<ReferenceCandidate> {
    let doc_lines: Vec<&str> = doc_text.lines().collect();
    let mut out = Vec::new();
    for snippet in snippets {
        if !snippet.code.contains("import") {
            // Nothing imported, nothing taken from an import: most examples, read quickly.
            continue;
        }
        let mut seen: HashSet<String> = HashSet::new();
        let code = mask_strings_and_comments(&snippet.code);
        let bindings = imports(&without_prompts(&snippet.code));
        for (index, line) in code.lines().enumerate() {
            let trimmed = line.trim_start();
            if snippet.kind == SnippetKind::Doctest
                && !(trimmed.starts_with(">>>") || trimmed.starts_with("..."))
            {
                continue; // expected output, not code
            }
            let doc_line = snippet.line as usize + index;
            let Some(written_line) = doc_lines.get(doc_line - 1) else {
                continue;
            };
            for (text, path, kind) in names_on_line(trimmed, &bindings) {
                if !seen.insert(path.clone()) {
                    continue; // once per snippet is enough
                }
                // Where the document shows it; a line that does not (a notebook's JSON
                // escaping) has nothing to point at.
                let Some(column) = find_word(written_line, &text) else {
                    continue;
                };
                out.push(ReferenceCandidate {
                    id: String::new(),
                    line: u32::try_from(doc_line).unwrap_or(u32::MAX),
                    column: u32::try_from(column + 1).unwrap_or(u32::MAX),
                    libraries: vec![path.split('.').next().unwrap_or(&path).to_string()],
                    name: text.clone(),
                    text,
                    path: Some(path),
                    modules: Vec::new(),
                    kind,
                    explicit: false,
                    ignored: false,
                    speculative: false,
                    snippet: Some(snippet.id.clone()),
                });
            }
        }
    }
    out
}

/// Doctest code as plain code: `>>> ` and `... ` prompts dropped.
fn without_prompts(code: &str) -> String {
    code.lines()
        .map(|l| {
            let t = l.trim_start();
            t.strip_prefix(">>>")
                .or_else(|| t.strip_prefix("..."))
                .map_or(l, |rest| rest.strip_prefix(' ').unwrap_or(rest))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// (as written, dotted path, kind) of the names one line of code takes from its imports.
fn names_on_line(line: &str, bindings: &[Import]) -> Vec<(String, String, ReferenceKind)> {
    let line = line
        .trim_start_matches(">>>")
        .trim_start_matches("...")
        .trim();
    let mut out = Vec::new();
    if let Some(rest) = line.strip_prefix("from ") {
        if let Some((module, names)) = rest.split_once(" import ") {
            let module = module.trim();
            if module.starts_with('.') || !is_dotted_path(module) {
                return out;
            }
            for part in names
                .trim_matches(|c| c == '(' || c == ')' || c == ' ')
                .split(',')
            {
                let name = part.split_whitespace().next().unwrap_or("");
                if is_identifier(name) {
                    out.push((
                        name.to_string(),
                        format!("{module}.{name}"),
                        ReferenceKind::Unknown,
                    ));
                }
            }
        }
        return out;
    }
    if let Some(rest) = line.strip_prefix("import ") {
        for part in rest.split(',') {
            let module = part.split_whitespace().next().unwrap_or("");
            if module.contains('.') && is_dotted_path(module) {
                out.push((
                    module.to_string(),
                    module.to_string(),
                    ReferenceKind::Module,
                ));
            }
        }
        return out;
    }
    for (start, chain) in chains(line) {
        let (first, rest) = chain.split_once('.').unwrap_or((&chain, ""));
        let Some(import) = bindings.iter().find(|i| i.binding == first) else {
            continue;
        };
        // `np.x = 1` defines the name rather than using it.
        let after = line[start + chain.len()..].trim_start();
        if after.starts_with('=') && !after.starts_with("==") {
            continue;
        }
        out.push((
            chain.clone(),
            format!("{}.{rest}", import.target),
            ReferenceKind::Unknown,
        ));
    }
    out
}

/// Dotted chains of identifiers (`a.b.c`) that do not hang off another expression
/// (`f(x).shape`, `self.a`), with their byte offsets.
fn chains(line: &str) -> Vec<(usize, String)> {
    let bytes = line.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts = (bytes[i].is_ascii_alphabetic() || bytes[i] == b'_')
            && (i == 0 || !(word(bytes[i - 1]) || bytes[i - 1] == b'.'));
        if !starts {
            i += 1;
            continue;
        }
        let mut end = i;
        loop {
            while end < bytes.len() && word(bytes[end]) {
                end += 1;
            }
            let next_is_word = bytes
                .get(end + 1)
                .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_');
            if bytes.get(end) == Some(&b'.') && next_is_word {
                end += 1;
            } else {
                break;
            }
        }
        let chain = &line[i..end];
        if chain.contains('.') {
            out.push((i, chain.to_string()));
        }
        i = end.max(i + 1);
    }
    out
}

/// The character column (0-based) where `text` stands as a whole word in `line`.
fn find_word(line: &str, text: &str) -> Option<usize> {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    let mut from = 0;
    while let Some(found) = line[from..].find(text) {
        let start = from + found;
        let end = start + text.len();
        let before = line[..start].chars().next_back();
        let after = line[end..].chars().next();
        if !before.is_some_and(word) && !after.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            return Some(line[..start].chars().count());
        }
        from = end;
    }
    None
}

/// The code with the insides of string literals and comments blanked out, line breaks and
/// widths kept, so names in them are not read as code.
fn mask_strings_and_comments(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    let mut out = String::with_capacity(code.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < chars.len() {
        let c = chars[i];
        if c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
            continue;
        }
        if c == '"' || c == '\'' {
            let triple = chars.get(i + 1) == Some(&c) && chars.get(i + 2) == Some(&c);
            let quote_len = if triple { 3 } else { 1 };
            for _ in 0..quote_len {
                out.push(c);
            }
            i += quote_len;
            while i < chars.len() {
                if chars[i] == '\\' {
                    out.push(' ');
                    if let Some(&next) = chars.get(i + 1) {
                        out.push(blank(next));
                    }
                    i += 2;
                    continue;
                }
                let closes = chars[i] == c
                    && (!triple || (chars.get(i + 1) == Some(&c) && chars.get(i + 2) == Some(&c)));
                if closes {
                    for _ in 0..quote_len {
                        out.push(c);
                    }
                    i += quote_len;
                    break;
                }
                if chars[i] == '\n' && !triple {
                    break; // an unterminated string ends with its line
                }
                out.push(blank(chars[i]));
                i += 1;
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snippet(code: &str, line: u32) -> Snippet {
        Snippet {
            id: "q3".into(),
            line,
            end_line: line + code.lines().count() as u32 - 1,
            code: code.into(),
            ..Snippet::default()
        }
    }

    #[test]
    fn imported_names_and_chains_on_them_are_found_at_their_place() {
        let code = "import imgaug\nimport numpy as np\nfrom os.path import join, exists\n\
                    seq = imgaug.Augmenter()  # imgaug.InComment\nx = np.linalg.norm(v).shape\n\
                    s = \"np.not_code\"\nimgaug.seed = 1\n";
        let doc = format!("# Title\n\n```python\n{code}```\n");
        let found = code_references(&doc, &[snippet(code, 4)]);
        let seen: Vec<(u32, u32, &str, &str)> = found
            .iter()
            .map(|c| {
                (
                    c.line,
                    c.column,
                    c.text.as_str(),
                    c.path.as_deref().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (6, 21, "join", "os.path.join"),
                (6, 27, "exists", "os.path.exists"),
                (7, 7, "imgaug.Augmenter", "imgaug.Augmenter"),
                (8, 5, "np.linalg.norm", "numpy.linalg.norm"),
            ]
        );
        assert!(found.iter().all(|c| c.snippet.as_deref() == Some("q3")));
    }

    #[test]
    fn doctest_output_is_not_code() {
        let code = ">>> import numpy as np\n>>> np.float64(1)\nnp.float64(1.0)\n";
        let mut s = snippet(code, 1);
        s.kind = SnippetKind::Doctest;
        let found = code_references(code, &[s]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, 2);
    }
}

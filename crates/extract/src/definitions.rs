//! The names a piece of Python code defines at its top level, read from its text.
//!
//! Used to explain an `undefined-name` failure: which fixture, or which earlier snippet of
//! the same document, would provide the missing name. A line-based reading is enough for
//! that purpose; it does not need to be a Python parser.

use std::collections::BTreeSet;

use crate::python_text::{self, is_identifier};

/// Names bound by top-level assignments, `def`, `class`, imports, `for` and `with ... as`.
pub fn defined_names(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in code.lines() {
        if line.starts_with([' ', '\t']) {
            continue; // inside a block: local to it, or conditional
        }
        let line = line.split(" #").next().unwrap_or(line).trim_end();
        let words = line.strip_prefix("async ").unwrap_or(line);
        if let Some(rest) = words
            .strip_prefix("def ")
            .or_else(|| words.strip_prefix("class "))
        {
            names.extend(identifier_at(rest));
        } else if line.starts_with("import ") || line.starts_with("from ") {
            names.extend(python_text::imports(line).into_iter().map(|i| i.binding));
        } else if let Some(rest) = line.strip_prefix("for ") {
            if let Some((targets, _)) = rest.split_once(" in ") {
                names.extend(targets_of(targets));
            }
        } else if line.starts_with("with ") {
            for part in line.split(" as ").skip(1) {
                names.extend(identifier_at(part));
            }
        } else {
            names.extend(assignment_targets(line));
        }
    }
    names
}

/// `a`, `a, b`, `(a, b)` and `a: int` before a single `=` (chains `a = b = 1` included).
fn assignment_targets(line: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut rest = line;
    while let Some(at) = find_assignment(rest) {
        let target = rest[..at].split(':').next().unwrap_or("");
        let found = targets_of(target);
        if found.is_empty() {
            break;
        }
        targets.extend(found);
        rest = &rest[at + 1..];
    }
    targets
}

/// Position of a plain `=` (not `==`, `<=`, `+=`, `!=`...) outside brackets and strings.
fn find_assignment(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    for (i, &b) in bytes.iter().enumerate() {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'\'' | b'"') => quote = Some(b),
            (None, b'(' | b'[' | b'{') => depth += 1,
            (None, b')' | b']' | b'}') => depth -= 1,
            (None, b'=') if depth == 0 => {
                let before = i.checked_sub(1).map(|j| bytes[j]);
                let after = bytes.get(i + 1).copied();
                let compound = matches!(
                    before,
                    Some(
                        b'=' | b'!'
                            | b'<'
                            | b'>'
                            | b'+'
                            | b'-'
                            | b'*'
                            | b'/'
                            | b'%'
                            | b'&'
                            | b'|'
                            | b'^'
                            | b'@'
                            | b':'
                    )
                );
                if !compound && after != Some(b'=') {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Identifiers of an assignment or `for` target: `a`, `a, b`, `(a, b)`; none for `a.b`
/// or `a[0]` (those change an object, they bind no name).
fn targets_of(text: &str) -> Vec<String> {
    let text = text
        .trim()
        .trim_start_matches(['(', '['])
        .trim_end_matches([')', ']']);
    let mut names = Vec::new();
    for part in text.split(',') {
        let part = part.trim().trim_start_matches('*');
        if part.is_empty() {
            continue;
        }
        if is_identifier(part) {
            names.push(part.to_string());
        } else {
            return Vec::new();
        }
    }
    names
}

fn identifier_at(text: &str) -> Option<String> {
    let name: String = text
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    is_identifier(&name).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(code: &str) -> Vec<String> {
        defined_names(code).into_iter().collect()
    }

    #[test]
    fn finds_what_top_level_code_binds() {
        let code = "import numpy as np, os.path\nfrom sklearn.metrics import (r2_score, mean_squared_error as mse)\n\
                    X, y = make()\nmodel: Model = build()\na = b = 1\ndef fit(x):\n    inner = 1\n\
                    class Net:\n    pass\nfor i, row in enumerate(X):\n    pass\nwith open('f') as handle:\n    pass\n";
        assert_eq!(
            names(code),
            [
                "Net", "X", "a", "b", "fit", "handle", "i", "model", "mse", "np", "os", "r2_score",
                "row", "y"
            ]
        );
    }

    #[test]
    fn comparisons_calls_and_attribute_writes_bind_nothing() {
        let code =
            "assert x == 1\nprint(a, key=b)\nobj.attr = 3\nitems[0] = 1\nn += 1\nok = f(x=1)\n";
        assert_eq!(names(code), ["ok"]);
    }

    #[test]
    fn the_guide_fixture_defines_the_guide_context() {
        let fixture = include_str!("../../../snippets/fixtures/ml.py");
        let found = defined_names(fixture);
        for name in ["X", "y", "y_true", "y_pred", "labels", "model", "images"] {
            assert!(found.contains(name), "{name} missing from {found:?}");
        }
    }
}

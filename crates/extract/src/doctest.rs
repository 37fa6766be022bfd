//! Doctest sessions: `>>>` examples followed by the output they must print, in any
//! document, and the docstrings of Python source files (`.py`), found the way
//! `python -m doctest` finds them.
//!
//! Only the extent of a session is decided here; the runner parses its examples with
//! CPython's own `doctest` module, so prompts, directives and expected output follow
//! doctest's rules exactly.

use std::collections::HashMap;

use snipcheck_record::SnippetKind;

use crate::ids::{Item, Meta};

/// The session every doctest example of a text, Markdown, HTML or notebook document
/// shares: `python -m doctest` runs a text file as one session, and Sphinx does the same
/// with a document's default group.
pub(crate) const SESSION: &str = "doctest";

/// How a `>>>` session found in a document runs.
pub(crate) fn session_meta() -> Meta {
    Meta {
        kind: SnippetKind::Doctest,
        session: Some(SESSION.to_string()),
        ..Meta::default()
    }
}

/// Whether a line (indentation allowed) starts with the `>>>` prompt. Doctest itself
/// takes `>>>x` as a prompt too (and then reports the missing blank).
pub(crate) fn is_prompt(line: &str) -> bool {
    line.trim_start().starts_with(">>>")
}

/// Whether code is an interactive session: its first non-blank line is a prompt.
pub(crate) fn is_session(code: &str) -> bool {
    code.lines()
        .find(|l| !l.trim().is_empty())
        .is_some_and(is_prompt)
}

/// 0-based first and last line of the examples in `lines`: from the first prompt to the
/// last line of the last example's expected output (which ends at a blank line or the
/// next prompt, as in doctest). `None` when there is no prompt.
pub(crate) fn session_extent(lines: &[&str]) -> Option<(usize, usize)> {
    let first = lines.iter().position(|l| is_prompt(l))?;
    let mut last = first;
    let mut i = first;
    while i < lines.len() {
        if !is_prompt(lines[i]) {
            i += 1;
            continue;
        }
        last = i;
        i += 1;
        // Continuation lines, then the expected output: non-blank lines up to a prompt.
        while i < lines.len() && !lines[i].trim().is_empty() && !is_prompt(lines[i]) {
            last = i;
            i += 1;
        }
    }
    Some((first, last))
}

/// Removes the indentation every non-blank line shares; blank lines become empty.
pub(crate) fn dedent(lines: &[&str]) -> String {
    let width = |l: &str| l.len() - l.trim_start_matches([' ', '\t']).len();
    let common = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| width(l))
        .min()
        .unwrap_or(0);
    let mut out = String::new();
    for line in lines {
        if !line.trim().is_empty() {
            // Lines with less indentation than `common` do not exist, but a tab may count
            // for less than its width in bytes: never cut inside the text.
            out.push_str(&line[common.min(width(line))..]);
        }
        out.push('\n');
    }
    out
}

/// Scans a Python source file: one doctest snippet per docstring with examples, under a
/// heading naming the object it documents, run with the module's globals.
pub(crate) fn scan_python(text: &str, path: &str) -> Vec<Item> {
    let mut items = Vec::new();
    for doc in docstrings(text) {
        let lines: Vec<&str> = doc.value.split('\n').collect();
        let Some((first, last)) = session_extent(&lines) else {
            continue;
        };
        // The module docstring is named after the module, like doctest names it.
        let heading = if doc.owner.is_empty() {
            module_name(path)
        } else {
            doc.owner.clone()
        };
        items.push(Item::Heading(heading));
        items.push(Item::Code {
            line: doc.lines[first],
            end_line: doc.lines[last],
            code: dedent(&lines[first..=last]),
            meta: Box::new(Meta {
                kind: SnippetKind::Doctest,
                module: Some(path.to_string()),
                object: Some(doc.owner),
                ..Meta::default()
            }),
        });
    }
    items
}

/// The file name without its folder and extension.
fn module_name(path: &str) -> String {
    let file = path.rsplit(['/', '\\']).next().unwrap_or(path);
    file.strip_suffix(".py").unwrap_or(file).to_string()
}

/// A docstring doctest would find: its value and the source line of each of its lines.
#[derive(Debug)]
struct Docstring {
    /// Dotted name of the documented object within the module (the module's own name for
    /// the module docstring).
    owner: String,
    value: String,
    /// 1-based source line of each line of `value`.
    lines: Vec<u32>,
}

/// A token of Python source, as much as finding docstrings needs.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    /// A string literal: its prefix, the byte range of its body in the source, and the
    /// 1-based line where the body starts.
    Str {
        prefix: String,
        body: (usize, usize),
        line: u32,
    },
    Other(char),
}

/// A logical line: its indentation (tabs to multiples of 8, as Python counts) and tokens.
#[derive(Debug)]
struct Logical {
    indent: usize,
    toks: Vec<Tok>,
}

/// What encloses a line.
#[derive(Debug, Clone, PartialEq)]
enum Block {
    Class(String),
    Def(String),
    /// `if`, `try`, `with`, `for`...: transparent for names.
    Other,
}

/// The docstrings `doctest.DocTestFinder` would visit, in source order: the module's
/// (its leading string, or a later `__doc__ = "..."`, which wins at run time), those of
/// classes and functions reachable from it through classes only (functions nested in
/// functions are not attributes of anything), and the strings of its `__test__` mapping.
/// Whether the imported module still holds each of them is for the run to tell.
fn docstrings(text: &str) -> Vec<Docstring> {
    let logical = logical_lines(text);
    let mut found = Vec::new();
    let mut stack: Vec<(usize, Block)> = Vec::new();
    // A `def` or `class` header whose docstring would be the next line.
    let mut pending: Option<(usize, String)> = None;
    // Module-level `NAME = "..."`: `__test__` entries may name them.
    let mut module_strings: HashMap<&str, &Tok> = HashMap::new();
    for (n, line) in logical.iter().enumerate() {
        let docstring = match line.toks.as_slice() {
            [tok @ Tok::Str { prefix, .. }] if docstring_prefix(prefix) => Some(tok),
            _ => None,
        };
        if n == 0 {
            if let Some(tok) = docstring {
                found.extend(literal(text, tok, String::new()));
            }
        }
        if let Some((header_indent, owner)) = pending.take() {
            if line.indent > header_indent {
                if let Some(tok) = docstring {
                    found.extend(literal(text, tok, owner));
                }
            }
        }
        while stack.last().is_some_and(|(i, _)| *i >= line.indent) {
            stack.pop();
        }
        if let Some(body) = body_owner(&stack) {
            match line.toks.as_slice() {
                [Tok::Name(name), Tok::Other('='), tok @ Tok::Str { prefix, .. }]
                    if docstring_prefix(prefix) =>
                {
                    if name == "__doc__" {
                        // Assigning `__doc__` replaces the docstring the body had.
                        found.retain(|d: &Docstring| d.owner != body);
                        found.extend(literal(text, tok, body.clone()));
                    } else if body.is_empty() {
                        module_strings.insert(name, tok);
                    }
                }
                [Tok::Name(name), Tok::Other('='), Tok::Other('{'), entries @ ..]
                    if name == "__test__" && body.is_empty() =>
                {
                    found.retain(|d: &Docstring| !d.owner.starts_with(TEST_PREFIX));
                    for (key, value) in test_entries(text, entries) {
                        let value = match value {
                            Tok::Name(name) => module_strings.get(name.as_str()).copied(),
                            tok => Some(tok),
                        };
                        if let Some(tok) = value {
                            found.extend(literal(text, tok, format!("{TEST_PREFIX}{key}")));
                        }
                    }
                }
                _ => {}
            }
        }
        let header = matches!(line.toks.last(), Some(Tok::Other(':')));
        if !header {
            continue;
        }
        let mut toks = line.toks.as_slice();
        if let [Tok::Name(a), rest @ ..] = toks {
            if a == "async" {
                toks = rest;
            }
        }
        let block = match toks {
            [Tok::Name(kw), Tok::Name(name), ..] if kw == "class" => Block::Class(name.clone()),
            [Tok::Name(kw), Tok::Name(name), ..] if kw == "def" => Block::Def(name.clone()),
            _ => Block::Other,
        };
        if let (Block::Class(name) | Block::Def(name), Some(owner)) = (&block, body_owner(&stack)) {
            let dotted = if owner.is_empty() {
                name.clone()
            } else {
                format!("{owner}.{name}")
            };
            pending = Some((line.indent, dotted));
        }
        stack.push((line.indent, block));
    }
    found.sort_by_key(|d| d.lines[0]);
    found
}

/// How doctest names the strings of a module's `__test__` mapping, after the module.
const TEST_PREFIX: &str = "__test__.";

/// The object whose body a line in `stack` is in, by its dotted name within the module
/// (empty for the module itself); `None` inside a function, whose names are its own.
fn body_owner(stack: &[(usize, Block)]) -> Option<String> {
    let mut names = Vec::new();
    for (_, block) in stack {
        match block {
            Block::Class(name) => names.push(name.as_str()),
            Block::Def(_) => return None,
            Block::Other => {}
        }
    }
    Some(names.join("."))
}

/// The entries of a `__test__ = {...}` literal (`toks` after the brace) whose key is a
/// plain string and whose value is one string or one name; others are left to the run.
fn test_entries<'t>(text: &str, toks: &'t [Tok]) -> Vec<(String, &'t Tok)> {
    let mut entries = Vec::new();
    // Split at the commas between entries, outside nested brackets.
    let mut depth = 0usize;
    let mut start = 0;
    for (i, tok) in toks.iter().enumerate() {
        match tok {
            Tok::Other('(' | '[' | '{') => depth += 1,
            Tok::Other(')' | ']' | '}') if depth > 0 => depth -= 1,
            Tok::Other(',' | '}') if depth == 0 => {
                if let [key @ Tok::Str { prefix, .. }, Tok::Other(':'), value] = &toks[start..i] {
                    let is_value = match value {
                        Tok::Str { prefix, .. } => docstring_prefix(prefix),
                        tok => matches!(tok, Tok::Name(_)),
                    };
                    if docstring_prefix(prefix) && is_value {
                        entries.push((string_value(text, key), value));
                    }
                }
                start = i + 1;
                if matches!(tok, Tok::Other('}')) {
                    break;
                }
            }
            _ => {}
        }
    }
    entries
}

/// The docstring a string-literal token holds, documenting `owner`.
fn literal(text: &str, tok: &Tok, owner: String) -> Option<Docstring> {
    let Tok::Str { prefix, body, line } = tok else {
        return None;
    };
    Some(decode(
        text,
        *body,
        *line,
        prefix.contains(['r', 'R']),
        owner,
    ))
}

/// The runtime value of a string-literal token.
fn string_value(text: &str, tok: &Tok) -> String {
    literal(text, tok, String::new()).map_or_else(String::new, |d| d.value)
}

/// Docstrings are plain, raw or unicode strings; bytes and f-strings are not docstrings.
fn docstring_prefix(prefix: &str) -> bool {
    prefix.chars().all(|c| matches!(c, 'r' | 'R' | 'u' | 'U'))
}

/// The runtime value of a string literal's body, with the source line of each of its
/// lines (escapes such as `\n` or a backslash-newline make the two differ).
fn decode(text: &str, body: (usize, usize), first: u32, raw: bool, owner: String) -> Docstring {
    let src = &text[body.0..body.1];
    let mut value = String::new();
    let mut lines = vec![first];
    let mut line = first;
    let mut chars = src.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\n' {
            line += 1;
            value.push('\n');
            lines.push(line);
            continue;
        }
        if c != '\\' || raw {
            value.push(c);
            if c == '\\' {
                // A raw string still cannot end on an escaped quote: keep the pair.
                if let Some(&next) = chars.peek() {
                    if next != '\n' {
                        value.push(next);
                        chars.next();
                    }
                }
            }
            continue;
        }
        let Some(e) = chars.next() else {
            value.push('\\');
            break;
        };
        match e {
            '\n' => line += 1,
            '\\' | '\'' | '"' => value.push(e),
            'n' => {
                value.push('\n');
                lines.push(line);
            }
            't' => value.push('\t'),
            'r' => value.push('\r'),
            'a' => value.push('\u{7}'),
            'b' => value.push('\u{8}'),
            'f' => value.push('\u{c}'),
            'v' => value.push('\u{b}'),
            '0'..='7' => {
                let mut digits = e.to_string();
                while digits.len() < 3 && chars.peek().is_some_and(|c| ('0'..='7').contains(c)) {
                    digits.extend(chars.next());
                }
                let code = u32::from_str_radix(&digits, 8).ok();
                if push_code(&mut value, code, e, &digits) {
                    lines.push(line);
                }
            }
            'x' | 'u' | 'U' => {
                let len = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let mut digits = String::new();
                while digits.len() < len && chars.peek().is_some_and(char::is_ascii_hexdigit) {
                    digits.extend(chars.next());
                }
                let code = (digits.len() == len)
                    .then(|| u32::from_str_radix(&digits, 16).ok())
                    .flatten();
                if push_code(&mut value, code, e, &digits) {
                    lines.push(line);
                }
            }
            '\r' if chars.peek() == Some(&'\n') => {
                chars.next();
                line += 1;
            }
            // `\N{name}` needs Unicode's name table; keep it as written.
            other => {
                value.push('\\');
                value.push(other);
            }
        }
    }
    Docstring {
        owner,
        value,
        lines,
    }
}

/// Pushes the character an escape stands for, or the escape as written when it stands for
/// none; whether the character is a newline (the value has one line more).
fn push_code(value: &mut String, code: Option<u32>, escape: char, digits: &str) -> bool {
    match code.and_then(char::from_u32) {
        Some(c) => {
            value.push(c);
            c == '\n'
        }
        None => {
            value.push('\\');
            value.push(escape);
            value.push_str(digits);
            false
        }
    }
}

/// Splits Python source into logical lines, tracking strings, comments, brackets and
/// continuations. Never fails: unterminated strings run to the end of the file.
fn logical_lines(text: &str) -> Vec<Logical> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut toks = Vec::new();
    let mut indent = 0;
    let mut at_start = true;
    let mut depth = 0usize;
    let mut line = 1u32;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if at_start {
            // Measure the indentation of a new logical line.
            let mut width = 0;
            while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b'\x0c') {
                width = if bytes[i] == b'\t' {
                    (width / 8 + 1) * 8
                } else {
                    width + 1
                };
                i += 1;
            }
            indent = width;
            at_start = false;
            continue;
        }
        match c {
            b'\n' => {
                line += 1;
                i += 1;
                if depth == 0 {
                    if !toks.is_empty() {
                        out.push(Logical {
                            indent,
                            toks: std::mem::take(&mut toks),
                        });
                    }
                    at_start = true;
                }
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'\\' if bytes.get(i + 1) == Some(&b'\n') => {
                line += 1;
                i += 2;
            }
            b'\\' if bytes.get(i + 1) == Some(&b'\r') && bytes.get(i + 2) == Some(&b'\n') => {
                line += 1;
                i += 3;
            }
            b'\'' | b'"' => {
                let (tok, end, lines) = string(text, i, String::new(), line);
                toks.push(tok);
                line += lines;
                i = end;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                toks.push(Tok::Other(c as char));
                i += 1;
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                toks.push(Tok::Other(c as char));
                i += 1;
            }
            b' ' | b'\t' | b'\r' | b'\x0c' => i += 1,
            _ if c == b'_' || c.is_ascii_alphanumeric() || c >= 0x80 => {
                let start = i;
                while i < bytes.len()
                    && (bytes[i] == b'_' || bytes[i].is_ascii_alphanumeric() || bytes[i] >= 0x80)
                {
                    i += 1;
                }
                let word = &text[start..i];
                let is_prefix = word.len() <= 2
                    && word
                        .chars()
                        .all(|c| matches!(c.to_ascii_lowercase(), 'r' | 'u' | 'b' | 'f'));
                if is_prefix && matches!(bytes.get(i), Some(b'\'' | b'"')) {
                    let (tok, end, lines) = string(text, i, word.to_string(), line);
                    toks.push(tok);
                    line += lines;
                    i = end;
                } else {
                    toks.push(Tok::Name(word.to_string()));
                }
            }
            _ => {
                // Multi-byte characters only occur in names and strings, handled above.
                toks.push(Tok::Other(c as char));
                i += 1;
            }
        }
    }
    if !toks.is_empty() {
        out.push(Logical { indent, toks });
    }
    out
}

/// Reads the string literal whose opening quote is at `start`: the token, the byte after
/// it, and how many newlines it spans.
fn string(text: &str, start: usize, prefix: String, line: u32) -> (Tok, usize, u32) {
    let bytes = text.as_bytes();
    let quote = bytes[start];
    let triple = bytes.get(start + 1) == Some(&quote) && bytes.get(start + 2) == Some(&quote);
    let open = if triple { 3 } else { 1 };
    let body_start = start + open;
    let mut i = body_start;
    let mut newlines = 0;
    let body_end;
    loop {
        match bytes.get(i) {
            None => {
                body_end = bytes.len();
                break;
            }
            Some(b'\\') => {
                if bytes.get(i + 1) == Some(&b'\n') {
                    newlines += 1;
                }
                i += 2;
            }
            Some(b'\n') if !triple => {
                // An unterminated one-line string ends at the line's end.
                body_end = i;
                break;
            }
            Some(&b) if b == quote => {
                if !triple {
                    body_end = i;
                    i += 1;
                    break;
                }
                if bytes.get(i + 1) == Some(&quote) && bytes.get(i + 2) == Some(&quote) {
                    body_end = i;
                    i += 3;
                    break;
                }
                i += 1;
            }
            Some(&b) => {
                if b == b'\n' {
                    newlines += 1;
                }
                i += 1;
            }
        }
    }
    let body_end = body_end.min(bytes.len());
    let i = i.min(bytes.len());
    (
        Tok::Str {
            prefix,
            body: (body_start, body_end.max(body_start)),
            line,
        },
        i,
        newlines,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_and_sessions() {
        assert!(is_session("\n  >>> 1 + 1\n  2\n"));
        assert!(is_session(">>>\n"));
        assert!(!is_session("x = 1\n>>> 1\n"));
        assert!(!is_session(""));
    }

    #[test]
    fn extent_ends_at_the_last_output_line() {
        let lines = [
            "Prose first.",
            "",
            ">>> x = 1",
            ">>> for i in range(2):",
            "...     print(i)",
            "0",
            "1",
            "",
            "More prose.",
            "",
            ">>> x",
            "1",
            "",
            "Trailing prose.",
        ];
        assert_eq!(session_extent(&lines), Some((2, 11)));
        assert_eq!(session_extent(&["no", "prompt"]), None);
    }

    fn owners(text: &str) -> Vec<(String, u32, String)> {
        docstrings(text)
            .into_iter()
            .map(|d| (d.owner, d.lines[0], d.value))
            .collect()
    }

    #[test]
    fn docstrings_doctest_would_visit() {
        let src = r#""""Module doc."""
import os

def f(x):
    '''F doc.'''
    def inner():
        """Not visible."""

class C(object):
    r"""C doc \d."""

    async def m(self) -> int:
        """M doc."""

    class Inner:
        "Inner doc."

    x = "not a docstring"

if True:
    def g():
        b"bytes are not docstrings"

    def h(): pass
"#;
        let got = owners(src);
        let names: Vec<&str> = got.iter().map(|(o, _, _)| o.as_str()).collect();
        assert_eq!(names, ["", "f", "C", "C.m", "C.Inner"]);
        assert_eq!(got[0], ("".into(), 1, "Module doc.".into()));
        assert_eq!(got[1].1, 5);
        assert_eq!(got[2].2, "C doc \\d.");
    }

    #[test]
    fn assigned_docstrings_replace_the_literal_at_their_own_line() {
        let src = r#""""Replaced."""
# hashlib's way: the docstring is assigned.
__doc__ = """Module.
>>> 1
1
"""

class C:
    "Replaced too."
    __doc__ = "C >>> doc"

    def m(self):
        __doc__ = "a local variable"
"#;
        assert_eq!(
            owners(src),
            [
                ("".into(), 3, "Module.\n>>> 1\n1\n".into()),
                ("C".into(), 10, "C >>> doc".into())
            ]
        );
    }

    #[test]
    fn test_mapping_strings_at_their_literals() {
        let src = r#"_SHARED = r"""
>>> shared
"""

def f():
    _LOCAL = "not a module string"

__test__ = {"inline": """
    >>> 1
    """,
    'named': _SHARED,
    "object": f,
    "local": _LOCAL, "call": str("x"), 3: "not a str key",
    "concatenated": "a" "b",
    "last": u"L"}
"#;
        let got = owners(src);
        let entries: Vec<(&str, u32)> = got.iter().map(|(o, l, _)| (o.as_str(), *l)).collect();
        assert_eq!(
            entries,
            [
                ("__test__.named", 1),
                ("__test__.inline", 8),
                ("__test__.last", 15)
            ]
        );
        assert_eq!(got[0].2, "\n>>> shared\n");
    }

    #[test]
    fn escapes_are_decoded_like_python() {
        let src = "def f():\n    \"\"\"a\\tb \\\\ \\x41\\u00e9 \\101 \\q\n    >>> print('x\\\\ny')\n    \"\"\"\n";
        let d = &docstrings(src)[0];
        assert_eq!(
            d.value,
            "a\tb \\ A\u{e9} A \\q\n    >>> print('x\\ny')\n    "
        );
        assert_eq!(d.lines, [2, 3, 4]);
        // Newlines written as codes are lines of the value too (they once had no source
        // line, and finding one panicked).
        let src = "\"\"\">>> 1\\x0a1\\0122\\u000a>>> 3\n3\"\"\"\n";
        let d = &docstrings(src)[0];
        assert_eq!(d.value, ">>> 1\n1\n2\n>>> 3\n3");
        assert_eq!(d.lines, [1, 1, 1, 1, 2]);
        let items = scan_python(src, "m.py");
        assert_eq!(Item::codes(items)[0].0, 1);
        assert_eq!(
            Item::codes(scan_python("\"\"\">>>\\x0a>>> ", "m.py"))[0].1,
            1
        );
    }

    #[test]
    fn comments_brackets_and_continuations_do_not_confuse_structure() {
        let src = "x = (1,\n  # ) not closing\n  2)\ndef f(a='''\n'''):  # doc next\n    'doc'\ny = 1 + \\\n    2\n";
        assert_eq!(owners(src), [("f".into(), 6, "doc".into())]);
    }

    #[test]
    fn python_file_snippets() {
        let src = "\"\"\"Module.\n\n>>> 1 + 1\n2\n\"\"\"\n\ndef f():\n    \"\"\"Doubles.\n\n    >>> f()\n    ...\n    Trailing prose.\n    \"\"\"\n\ndef g():\n    \"\"\"No examples.\"\"\"\n";
        let items = scan_python(src, "m.py");
        let mut codes = Vec::new();
        let mut objects = Vec::new();
        for (line, end_line, code, meta) in Item::examples(items.clone()) {
            assert_eq!(meta.module.as_deref(), Some("m.py"));
            objects.extend(meta.object);
            assert_eq!(meta.session, None);
            codes.push((line, end_line, code));
        }
        assert_eq!(
            codes,
            [
                (3, 4, ">>> 1 + 1\n2\n".to_string()),
                (10, 12, ">>> f()\n...\nTrailing prose.\n".to_string())
            ]
        );
        assert_eq!(items[2], Item::Heading("f".into()));
        // The module's own docstring is headed by the module's name, but is the object "".
        assert_eq!(items[0], Item::Heading("m".into()));
        assert_eq!(objects, ["", "f"]);
    }

    #[test]
    fn hostile_sources_do_not_panic() {
        for src in [
            "\"\"\"",
            "'",
            "def f():\n    \"\"\"\\",
            "def f():\n    '''\\x4",
            "class",
            ")))",
            "\\",
            "def é():\n    'ü\\N{DASH}'\n",
            "x = '\\\r\n'\r\n",
        ] {
            let _ = scan_python(src, "x.py");
        }
    }
}

//! reStructuredText: code directives (`code-block`, `code`, `sourcecode`), Sphinx's
//! doctest directives (`doctest`, `testcode`/`testoutput`, `testsetup`/`testcleanup`),
//! `>>>` doctest blocks, and literal blocks after `::`.
//!
//! Sphinx's doctest blocks share a namespace per group, as `sphinx.ext.doctest` runs
//! them; the default group is the document's doctest session. A literal block is Python
//! when a `.. highlight:: python` directive says so, or, with no such directive, when it
//! reads as Python as a whole (the plain-text rules) or is a `>>>` session.

use snipcheck_record::{Diagnostic, ExpectedOutput, OutputForm, Severity, SnippetKind};

use crate::doctest;
use crate::formats::text;
use crate::ids::{Item, Meta};
use crate::markers::{self, Waiting};
use crate::Lang;

/// Characters reST accepts in section adornments.
const ADORNMENT: &str = "=-`:'\"~^_*+#<>.";

/// Directive options that only change how a block is displayed.
const DISPLAY_OPTIONS: &[&str] = &[
    "caption",
    "class",
    "dedent",
    "emphasize-lines",
    "force",
    "hide",
    "linenos",
    "lineno-start",
    "name",
    "trim-doctest-flags",
    "no-trim-doctest-flags",
];

/// Scans a reST document for headings and Python examples.
pub(crate) fn scan(text: &str, path: &str) -> (Vec<Item>, Vec<Diagnostic>) {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut scanner = Scanner {
        lines: &lines,
        path,
        items: Vec::new(),
        diagnostics: Vec::new(),
        highlight: None,
        last_testcode: None,
        waiting: Waiting::new(path),
    };
    scanner.run();
    (scanner.items, scanner.diagnostics)
}

struct Scanner<'a> {
    lines: &'a [&'a str],
    path: &'a str,
    items: Vec<Item>,
    diagnostics: Vec<Diagnostic>,
    /// The language `.. highlight::` set for literal blocks.
    highlight: Option<String>,
    /// Index in `items` of the `testcode` a `testoutput` would belong to.
    last_testcode: Option<usize>,
    /// `.. snipcheck:` markers waiting for the next example.
    waiting: Waiting,
}

/// A directive's indented content: 0-based first and last non-blank line.
struct Content {
    first: usize,
    last: usize,
}

impl Scanner<'_> {
    fn run(&mut self) {
        let lines = self.lines;
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i];
            let body = line.trim_start();
            if body.is_empty() {
                i += 1;
                continue;
            }
            // `.. snipcheck: skip`: a comment, so not rendered; continued on indented lines.
            if let Some(words) = body.strip_prefix("..").and_then(markers::marker_words) {
                let end = self
                    .content(i + 1, indent(line))
                    .map_or(i + 1, |c| c.last + 1);
                let mut text = words.to_string();
                for more in &lines[i + 1..end] {
                    text.push(' ');
                    text.push_str(more.trim());
                }
                self.waiting
                    .comment(line_number(i), Ok(&text), &mut self.diagnostics);
                i = end;
                continue;
            }
            i = self.marked(body.starts_with(".."), |scanner| scanner.step(i));
        }
        self.waiting.interrupt(&mut self.diagnostics);
    }

    /// Scans the construct at line `i` with `scan`: markers waiting before it go to the
    /// example it gives, and are an error when it gives none.
    fn marked(&mut self, directive: bool, scan: impl FnOnce(&mut Self) -> usize) -> usize {
        let taken = self.waiting.take();
        let before = self.items.len();
        let next = scan(self);
        if let Some((line, markers)) = taken {
            match self.items[before..]
                .iter_mut()
                .find(|item| matches!(item, Item::Code { .. }))
            {
                Some(Item::Code { meta, .. }) => *meta.markers = markers,
                _ if directive => self.waiting.unused(line, &mut self.diagnostics),
                _ => self.waiting.misplaced(line, &mut self.diagnostics),
            }
        }
        next
    }

    /// Scans the construct at non-blank line `i`; returns the line to continue from.
    fn step(&mut self, i: usize) -> usize {
        let lines = self.lines;
        let line = lines[i];
        let body = line.trim_start();
        if let Some(next) = self.heading(i) {
            return next;
        }
        if let Some(rest) = body.strip_prefix("..") {
            return self.explicit(i, rest);
        }
        if doctest::is_prompt(line) {
            // A doctest block: up to the blank line.
            let end = (i..lines.len())
                .find(|&k| lines[k].trim().is_empty())
                .unwrap_or(lines.len());
            self.push(i, end - 1, doctest::session_meta());
            return end;
        }
        if body.ends_with("::") && !body.starts_with("..") {
            if let Some(content) = self.content(i + 1, indent(line)) {
                self.literal(&content);
                return content.last + 1;
            }
        }
        i + 1
    }

    /// A section title (underlined, optionally overlined): the line after it.
    fn heading(&mut self, i: usize) -> Option<usize> {
        let lines = self.lines;
        let (title, next) = if is_adornment(lines[i]) {
            let title = lines.get(i + 1)?;
            let under = lines.get(i + 2)?;
            (is_adornment(under) && !title.trim().is_empty()).then_some((title.trim(), i + 3))?
        } else {
            let under = lines.get(i + 1)?;
            let fits = under.trim_end().chars().count() >= lines[i].trim_end().chars().count();
            (indent(lines[i]) == 0 && is_adornment(under) && fits)
                .then_some((lines[i].trim(), i + 2))?
        };
        self.items.push(Item::Heading(title.to_string()));
        Some(next)
    }

    /// An explicit markup block (`.. name:: argument`, a comment, a target) at line `i`:
    /// the line to continue from.
    fn explicit(&mut self, i: usize, rest: &str) -> usize {
        let lines = self.lines;
        let base = indent(lines[i]);
        let Some((name, argument)) = rest.trim_start().split_once("::") else {
            // A comment or a target: its indented lines are not the document's text.
            return self.content(i + 1, base).map_or(i + 1, |c| c.last + 1);
        };
        let name = name.trim().to_ascii_lowercase();
        let argument = argument.trim();
        // Options: field lines right below the directive.
        let mut options = Vec::new();
        let mut k = i + 1;
        while let Some(l) = lines.get(k) {
            let b = l.trim_start();
            if l.trim().is_empty() || indent(l) <= base || !b.starts_with(':') {
                break;
            }
            let mut parts = b[1..].splitn(2, ':');
            let key = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let value = parts.next().unwrap_or("").trim().to_string();
            options.push((key, value, k));
            k += 1;
        }
        let group = || {
            let g = argument.split([',', ' ']).next().unwrap_or("").trim();
            if g.is_empty() || g == "default" || g == "*" {
                doctest::SESSION.to_string()
            } else {
                format!("{}:{g}", doctest::SESSION)
            }
        };
        match name.as_str() {
            "highlight" => {
                self.highlight = Some(argument.to_ascii_lowercase());
                i + 1
            }
            "code-block" | "code" | "sourcecode" => {
                let language = argument
                    .split_whitespace()
                    .next()
                    .map(str::to_ascii_lowercase)
                    .or_else(|| self.highlight.clone());
                let Some(content) = self.content(k, base) else {
                    return k;
                };
                let code = self.code(&content);
                let meta = match language.as_deref().and_then(Lang::from_name) {
                    Some(_) if doctest::is_session(&code) => doctest::session_meta(),
                    Some(Lang::Python) => Meta::default(),
                    _ => return content.last + 1,
                };
                self.check_options(&options, &[]);
                self.push(content.first, content.last, meta);
                content.last + 1
            }
            "doctest" | "testcode" | "testsetup" | "testcleanup" => {
                let Some(content) = self.content(k, base) else {
                    return k;
                };
                let mut meta = Meta {
                    kind: if name == "doctest" {
                        SnippetKind::Doctest
                    } else {
                        SnippetKind::Python
                    },
                    session: Some(group()),
                    ..Meta::default()
                };
                self.apply_options(&options, &mut meta);
                self.push(content.first, content.last, meta);
                self.last_testcode = (name == "testcode").then(|| self.items.len() - 1);
                content.last + 1
            }
            "testoutput" => {
                let Some(content) = self.content(k, base) else {
                    return k;
                };
                let expected = self.code(&content);
                // Its `:options:` decide how the output is compared.
                let mut extra = Meta::default();
                self.apply_options(&options, &mut extra);
                match self.last_testcode.take().map(|n| &mut self.items[n]) {
                    Some(Item::Code { meta, .. }) => {
                        meta.expected_output = Some(ExpectedOutput {
                            text: expected,
                            line: line_number(content.first),
                            end_line: line_number(content.last),
                            form: OutputForm::Block,
                        });
                        meta.options.extend(extra.options);
                    }
                    _ => self.warn(
                        i,
                        "testoutput does not follow a testcode block; it is not checked",
                    ),
                }
                content.last + 1
            }
            // Other directives (admonitions, lists...) hold body elements: read on.
            _ => k,
        }
    }

    /// Sphinx doctest options: `:skipif:` and `:options:` are honoured, display options
    /// ignored, others reported.
    fn apply_options(&mut self, options: &[(String, String, usize)], meta: &mut Meta) {
        for (key, value, _) in options {
            match key.as_str() {
                "skipif" => meta.skip_if = Some(value.clone()),
                "options" => meta.options.extend(
                    value
                        .split([',', ' '])
                        .map(str::trim)
                        .filter(|o| !o.is_empty())
                        .map(String::from),
                ),
                _ => {}
            }
        }
        self.check_options(options, &["skipif", "options"]);
    }

    fn check_options(&mut self, options: &[(String, String, usize)], honoured: &[&str]) {
        for (key, _, line) in options {
            if !honoured.contains(&key.as_str()) && !DISPLAY_OPTIONS.contains(&key.as_str()) {
                let message = format!("option :{key}: is not supported; the block runs regardless");
                self.diagnostics.push(Diagnostic {
                    path: self.path.to_string(),
                    line: Some(line_number(*line)),
                    severity: Severity::Info,
                    message,
                });
            }
        }
    }

    /// A literal block after `::`.
    fn literal(&mut self, content: &Content) {
        let code = self.code(content);
        let meta = if doctest::is_session(&code) {
            doctest::session_meta()
        } else {
            match self.highlight.as_deref().map(Lang::from_name) {
                Some(Some(Lang::Python)) => Meta::default(),
                // No language set: only a block that reads as Python as a whole.
                None if text::whole_code(&code) => Meta::default(),
                _ => return,
            }
        };
        self.push(content.first, content.last, meta);
    }

    /// The indented block starting at or after `from` (blank lines first allowed), deeper
    /// than `base`.
    fn content(&self, from: usize, base: usize) -> Option<Content> {
        let lines = self.lines;
        let first = (from..lines.len()).find(|&k| !lines[k].trim().is_empty())?;
        if indent(lines[first]) <= base {
            return None;
        }
        let mut last = first;
        for (k, l) in lines.iter().enumerate().skip(first) {
            if l.trim().is_empty() {
                continue;
            }
            if indent(l) <= base {
                break;
            }
            last = k;
        }
        Some(Content { first, last })
    }

    fn code(&self, content: &Content) -> String {
        doctest::dedent(&self.lines[content.first..=content.last])
    }

    fn push(&mut self, first: usize, last: usize, meta: Meta) {
        let code = doctest::dedent(&self.lines[first..=last]);
        self.items.push(Item::Code {
            line: line_number(first),
            end_line: line_number(last),
            code,
            meta: Box::new(meta),
        });
    }

    fn warn(&mut self, i: usize, message: &str) {
        self.diagnostics.push(Diagnostic {
            path: self.path.to_string(),
            line: Some(line_number(i)),
            severity: Severity::Warning,
            message: message.to_string(),
        });
    }
}

/// A line of one adornment character repeated (at least 3 times, or 2 for short titles).
fn is_adornment(line: &str) -> bool {
    let t = line.trim_end();
    let mut chars = t.chars();
    let Some(c) = chars.next() else {
        return false;
    };
    ADORNMENT.contains(c) && t.len() >= 2 && chars.all(|d| d == c) && indent(line) == 0
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

fn line_number(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(rst: &str) -> Vec<(u32, u32, String, Meta)> {
        Item::examples(scan(rst, "t.rst").0)
    }

    #[test]
    fn code_directives_and_headings() {
        let rst = "=====\nGuide\n=====\n\nUsage\n-----\n\n.. code-block:: python\n   :caption: demo\n\n   import os\n\n   print(os.sep)\n\n.. code:: bash\n\n   ls\n\n.. sourcecode:: pycon\n\n    >>> 1 + 1\n    2\n\nText after.\n";
        let (items, diagnostics) = scan(rst, "t.rst");
        assert!(diagnostics.is_empty());
        assert_eq!(items[0], Item::Heading("Guide".into()));
        assert_eq!(items[1], Item::Heading("Usage".into()));
        let got = codes(rst);
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].0, got[0].1), (11, 13));
        assert_eq!(got[0].2, "import os\n\nprint(os.sep)\n");
        assert_eq!((got[1].0, got[1].1), (21, 22));
        assert_eq!(got[1].3.kind, SnippetKind::Doctest);
    }

    #[test]
    fn sphinx_doctest_directives() {
        let rst = ".. testsetup:: *\n\n   import math\n\n.. doctest::\n   :options: +ELLIPSIS\n\n   >>> math.pi\n   3.14...\n\n.. testcode:: g2\n   :skipif: sys.version_info < (3,)\n   :pyversion: > 3.6\n\n   print(1)\n\n.. testoutput:: g2\n   :options: +NORMALIZE_WHITESPACE\n\n   1\n\n.. testoutput::\n\n   2\n";
        let (_, diagnostics) = scan(rst, "t.rst");
        let got = codes(rst);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].3.session.as_deref(), Some("doctest"));
        assert_eq!(got[1].3.kind, SnippetKind::Doctest);
        assert_eq!(got[1].3.options, ["+ELLIPSIS"]);
        let testcode = &got[2].3;
        assert_eq!(testcode.session.as_deref(), Some("doctest:g2"));
        assert_eq!(testcode.skip_if.as_deref(), Some("sys.version_info < (3,)"));
        assert_eq!(testcode.options, ["+NORMALIZE_WHITESPACE"]);
        let expected = testcode.expected_output.as_ref().unwrap();
        assert_eq!((expected.text.as_str(), expected.line), ("1\n", 20));
        let lines: Vec<(Option<u32>, Severity)> =
            diagnostics.iter().map(|d| (d.line, d.severity)).collect();
        // The unsupported option, and the testoutput with no testcode before it.
        assert_eq!(
            lines,
            [(Some(13), Severity::Info), (Some(22), Severity::Warning)]
        );
    }

    #[test]
    fn literal_blocks_and_doctest_blocks() {
        let rst = "Run this::\n\n    import json\n    json.dumps(1)\n\nOr this shell command::\n\n    pip install snipcheck\n\n>>> 2 * 3\n6\n\n.. highlight:: python\n\n::\n\n    print(x)  # any Python now\n\n.. This comment::\n\n    x = 1\n";
        let got = codes(rst);
        let spans: Vec<(u32, u32)> = got.iter().map(|c| (c.0, c.1)).collect();
        assert_eq!(spans, [(3, 4), (10, 11), (17, 17)]);
        assert_eq!(got[1].3.session.as_deref(), Some("doctest"));
    }

    #[test]
    fn nested_directives_are_found() {
        let rst = ".. note::\n\n   An example:\n\n   .. code-block:: python\n\n      x = 1\n";
        assert_eq!(codes(rst).iter().map(|c| c.0).collect::<Vec<_>>(), [7]);
    }

    #[test]
    fn hostile_input_does_not_panic() {
        for rst in [
            "",
            "..",
            ".. ::",
            "::",
            "==\n",
            "x\n==",
            ".. code-block::",
            ".. testoutput::\n\n  x",
            "\u{feff}::\n\n  é",
        ] {
            let _ = scan(rst, "t.rst");
        }
    }
}

#[cfg(test)]
mod marker_tests {
    use super::*;

    #[test]
    fn comments_before_directives() {
        let rst = "Title\n=====\n\n.. snipcheck: skip reason=\"needs a GPU\"\n\n.. code-block:: python\n\n   x = 1\n\n\
                   .. snipcheck: xfail\n   timeout=5\n.. testcode::\n\n   y = 2\n\n.. snipcheck: skip\n\nA paragraph.\n\n\
                   .. snipcheck: xfail\n.. code-block:: bash\n\n   ls\n\n.. snipcheck: nonsense\n.. snipcheck: ignore-reference Foo\n";
        let (items, diagnostics) = scan(rst, "t.rst");
        let markers = Item::markers(items);
        assert_eq!(markers.len(), 2);
        assert_eq!(
            markers[0].skip.as_ref().unwrap().reason.as_deref(),
            Some("needs a GPU")
        );
        // A marker comment continues on its indented lines.
        assert!(markers[1].xfail.is_some());
        assert_eq!(markers[1].timeout, Some(5.0));
        let found: Vec<(Option<u32>, bool)> = diagnostics
            .iter()
            .map(|d| (d.line, d.message.contains("no code block")))
            .collect();
        assert_eq!(
            found,
            [(Some(16), true), (Some(20), false), (Some(25), false)]
        );
        assert!(diagnostics[1].message.contains("not a Python example"));
        assert!(diagnostics[2]
            .message
            .starts_with("unknown marker `nonsense`"));
    }
}

//! Plain text: examples are paragraphs of unfenced code between prose paragraphs.
//!
//! A paragraph (a run of non-blank lines) is code when its first line has an unmistakable
//! Python statement shape and every following line is code, a continuation (open bracket,
//! trailing backslash, triple-quoted string) or an indented block body. Consecutive code
//! paragraphs (a function, a blank line, a call to it) form one example. One-line
//! paragraphs that are not code and read like titles are headings.

use crate::doctest;
use crate::ids::Item;
use crate::pylike::{classify, Lexer, Line, Tok};

/// Longest line, in characters, taken as a heading.
const MAX_HEADING: usize = 100;

/// Most paragraphs a code unit may extend through while incomplete (a header whose body
/// is after a blank line).
const MAX_INCOMPLETE_RUN: usize = 16;

/// A run of non-blank lines: 0-based indices of its first and last line.
#[derive(Debug, Clone, Copy)]
struct Paragraph {
    first: usize,
    last: usize,
}

/// Scans a plain-text document for headings and code examples.
pub(crate) fn scan(text: &str) -> Vec<Item> {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let paragraphs = paragraphs(&lines);
    let para_lines = |p: &Paragraph| &lines[p.first..=p.last];

    let mut items = Vec::new();
    let mut i = 0;
    while i < paragraphs.len() {
        let p = paragraphs[i];
        let base = indent(lines[p.first]);
        if doctest::is_prompt(lines[p.first]) {
            // A `>>>` paragraph: examples and their output, up to the blank line.
            items.push(Item::Code {
                line: to_u32(p.first + 1),
                end_line: to_u32(p.last + 1),
                code: dedent(para_lines(&p), base),
                meta: Box::new(doctest::session_meta()),
            });
            i += 1;
            continue;
        }
        let mut unit = Analyzer::new(base);
        let mut end = None;
        if unit.paragraph(para_lines(&p)) {
            end = unit.complete().then_some(i);
            for (j, next_p) in paragraphs.iter().enumerate().skip(i + 1) {
                // Real code is whole again within a few paragraphs; giving up on long
                // incomplete runs keeps adversarial input from going quadratic.
                if j - end.unwrap_or(i) > MAX_INCOMPLETE_RUN {
                    break;
                }
                let mut next = unit.clone();
                let before = next.statements;
                if !next.paragraph(para_lines(next_p)) {
                    break;
                }
                unit = next;
                if unit.complete() && unit.statements > before {
                    end = Some(j);
                }
            }
        }
        match end {
            Some(e) => {
                let last = paragraphs[e].last;
                items.push(Item::code(
                    to_u32(p.first + 1),
                    to_u32(last + 1),
                    dedent(&lines[p.first..=last], base),
                ));
                i = e + 1;
            }
            None => {
                if p.first == p.last {
                    if let Some(h) = heading(lines[p.first]) {
                        items.push(Item::Heading(h));
                    }
                }
                i += 1;
            }
        }
    }
    items
}

/// Whether these rules read all of `code` (a block some markup set apart, with no
/// language) as one example, from its first line to its last.
pub(crate) fn whole_code(code: &str) -> bool {
    let code = code.trim_end();
    let last = to_u32(code.lines().count());
    let first_is_code = code.lines().next().is_some_and(|l| !l.trim().is_empty());
    first_is_code
        && scan(code)
            .iter()
            .any(|i| matches!(i, Item::Code { line: 1, end_line, .. } if *end_line == last))
}

fn paragraphs(lines: &[&str]) -> Vec<Paragraph> {
    let mut out = Vec::new();
    let mut start = None;
    for (k, line) in lines.iter().enumerate() {
        let blank = line.trim().is_empty();
        match (start, blank) {
            (None, false) => start = Some(k),
            (Some(s), true) => {
                out.push(Paragraph {
                    first: s,
                    last: k - 1,
                });
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(Paragraph {
            first: s,
            last: lines.len() - 1,
        });
    }
    out
}

/// Width of the leading spaces and tabs, in bytes.
fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

/// The code as it will run: the unit's own indentation removed, blank lines emptied.
fn dedent(lines: &[&str], base: usize) -> String {
    let mut code = String::new();
    for line in lines {
        if !line.trim().is_empty() {
            code.push_str(&line[indent(line).min(base)..]);
        }
        code.push('\n');
    }
    code
}

/// A heading: one short line, flush left, that is not code and does not read as a
/// sentence, list item or lead-in ("For example,", "Output:").
fn heading(line: &str) -> Option<String> {
    if indent(line) > 0 {
        return None;
    }
    let t = line.trim();
    let first = t.chars().next()?;
    let bullet = matches!(
        first,
        '\u{2022}' | '-' | '*' | '+' | '\u{b7}' | '\u{2013}' | '\u{2014}' | '>' | '|'
    );
    let lead_in = t.ends_with(['.', ',', ';', ':']);
    let short = t.chars().count() <= MAX_HEADING;
    (short && !bullet && !lead_in && t.chars().any(char::is_alphabetic)).then(|| t.to_string())
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Follows a candidate code unit line by line: tokenizer state, logical line, block
/// indentation. Cloned to try extending the unit with the next paragraph.
#[derive(Debug, Clone)]
struct Analyzer {
    /// Indentation of the unit's first line; the code is dedented by it.
    base: usize,
    lexer: Lexer,
    /// Tokens of the logical line being read.
    toks: Vec<Tok>,
    /// The current logical line must have an unmistakable statement shape.
    strict: bool,
    /// No statement yet in the current paragraph.
    fresh: bool,
    /// Indentation levels of the open blocks, relative to `base`; starts at `[0]`.
    indents: Vec<usize>,
    /// The last statement was a header: the next line must be indented deeper.
    expect_body: bool,
    /// Statements read so far (comments and a bare `pass`/`return` do not count).
    statements: usize,
}

impl Analyzer {
    fn new(base: usize) -> Self {
        Analyzer {
            base,
            lexer: Lexer::default(),
            toks: Vec::new(),
            strict: true,
            fresh: true,
            indents: vec![0],
            expect_body: false,
            statements: 0,
        }
    }

    /// Reads one paragraph; `false` when it is not (a continuation of) code.
    fn paragraph(&mut self, lines: &[&str]) -> bool {
        self.fresh = true;
        // A logical line does not continue across a blank line.
        lines.iter().all(|l| self.line(l)) && !self.lexer.continues()
    }

    fn line(&mut self, line: &str) -> bool {
        if !self.lexer.continues() {
            let width = indent(line);
            if line[width..].starts_with('#') {
                return true;
            }
            let Some(rel) = width.checked_sub(self.base) else {
                return false;
            };
            if self.expect_body {
                if self.indents.last().is_some_and(|&top| rel <= top) {
                    return false;
                }
                self.indents.push(rel);
                self.expect_body = false;
            } else {
                while let Some(&top) = self.indents.last() {
                    if top == rel {
                        break;
                    }
                    if top < rel {
                        return false;
                    }
                    self.indents.pop();
                }
                if self.indents.is_empty() {
                    return false;
                }
            }
            self.toks.clear();
            self.strict = self.fresh;
        }
        if self.lexer.line(line, &mut self.toks).is_none() {
            return false;
        }
        if self.lexer.continues() {
            return true;
        }
        let in_body = self.indents.len() > 1;
        match classify(&self.toks, self.strict, in_body) {
            None => false,
            Some(kind) => {
                self.expect_body = kind == Line::Header;
                // A lone "pass" or "return" is more likely a word than an example.
                let trivial = matches!(self.toks.as_slice(), [Tok::Name(n)]
                    if ["pass", "break", "continue", "return"].contains(&n.as_str()));
                if !trivial {
                    self.statements += 1;
                }
                self.fresh = false;
                true
            }
        }
    }

    /// The unit read so far is whole: nothing left open, at least one statement.
    fn complete(&self) -> bool {
        !self.lexer.continues() && !self.expect_body && self.statements > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUIDE: &str = include_str!("../../../../snippets/ml-engineer-interview-guide.txt");

    /// (line, end_line, code) of each example.
    fn codes(text: &str) -> Vec<(u32, u32, String)> {
        Item::codes(scan(text))
    }

    fn spans(text: &str) -> Vec<(u32, u32)> {
        codes(text).into_iter().map(|(a, b, _)| (a, b)).collect()
    }

    #[test]
    fn guide_has_exactly_its_18_examples() {
        assert_eq!(
            spans(GUIDE),
            [
                (19, 21),
                (39, 40),
                (50, 51),
                (69, 70),
                (80, 81),
                (99, 100),
                (110, 112),
                (130, 131),
                (141, 142),
                (152, 153),
                (171, 172),
                (182, 183),
                (201, 202),
                (212, 214),
                (232, 234),
                (252, 253),
                (271, 272),
                (290, 291),
            ]
        );
        let first = &codes(GUIDE)[0].2;
        assert_eq!(
            first,
            "import imgaug\naugmenter = imgaug.Augmenter()\nimages = augmenter.augment_images(images)\n"
        );
    }

    #[test]
    fn guide_headings() {
        let headings: Vec<String> = scan(GUIDE)
            .into_iter()
            .filter_map(|i| match i {
                Item::Heading(h) => Some(h),
                Item::Code { .. } => None,
            })
            .collect();
        assert_eq!(headings.len(), 1 + 57 + 5);
        assert_eq!(headings[0], "Intermediate Interview Questions");
        assert_eq!(
            headings[3],
            "Q3. How do you implement data augmentation in a computer vision task?"
        );
        assert_eq!(
            &headings[58..],
            [
                "Tips to Ace Your Top 40 Machine Learning Engineers Interview",
                "Need help preparing for your interview?",
                "View Our Services → Contact Us",
                "Bhaskar Soni",
                "Leave a Reply"
            ]
        );
    }

    #[test]
    fn multi_line_def_with_body() {
        let text = "Define it:\n\ndef area(w, h):\n    \"\"\"Area.\"\"\"\n    if w < 0:\n        raise ValueError(w)\n    return w * h\n\nThen call it.\n";
        assert_eq!(
            codes(text),
            vec![(
                3,
                7,
                "def area(w, h):\n    \"\"\"Area.\"\"\"\n    if w < 0:\n        raise ValueError(w)\n    return w * h\n".to_string()
            )]
        );
    }

    #[test]
    fn blank_lines_join_code_paragraphs() {
        let text =
            "Prose here.\n\ndef f():\n    x = 1\n\n    return x\n\n\nprint(f())\n\nMore prose.\n";
        assert_eq!(spans(text), [(3, 9)]);
        assert_eq!(
            codes(text)[0].2,
            "def f():\n    x = 1\n\n    return x\n\n\nprint(f())\n"
        );
    }

    #[test]
    fn bracket_and_backslash_continuations() {
        let text = "model = Model(\n    layers=[1, 2,\n            3],\n    name='m',\n)\ntotal = 1 + \\\n    2\nmsg = \"\"\"\nA sentence. Another one?\n\"\"\"\n";
        assert_eq!(spans(text), [(1, 10)]);
        // A bracket left open at the end is not code.
        assert!(spans("x = f(1,\n").is_empty());
    }

    #[test]
    fn indented_paragraph_is_dedented() {
        let text = "Example\n\n    import os\n    if os.sep:\n        print(os.sep)\n";
        assert_eq!(
            codes(text),
            vec![(
                3,
                5,
                "import os\nif os.sep:\n    print(os.sep)\n".to_string()
            )]
        );
    }

    #[test]
    fn prose_is_not_code() {
        for text in [
            "The value x = 5 is used here.\n",
            "learning_rate = 0.01 is a good default\n",
            "Call fit(X, y) to train (see below).\n",
            "print the results\n",
            "import the data first\n",
            "if needed:\nrestart the kernel\n",
            "while training:\n",
            "def f():\n",
            "Note: x = 5\n",
            "  • Practice implementing algorithms\n  • Use public datasets\n",
            "View Our Services → Contact Us\n",
            "# Heading only\n",
            "Use it like this: f(x)\n",
            "x = 1\nThis line is prose.\n",
            "For example,\nimport os\n",
            "pass\n",
            "return\n",
        ] {
            assert!(spans(text).is_empty(), "{text:?}");
        }
    }

    #[test]
    fn doctest_paragraphs_are_sessions() {
        let text = "Title\n\n  >>> import os\n  >>> os.sep\n  '/'\n\nProse.\n\n>>> x = 1\n";
        assert_eq!(
            codes(text),
            [
                (3, 5, ">>> import os\n>>> os.sep\n'/'\n".to_string()),
                (9, 9, ">>> x = 1\n".to_string())
            ]
        );
        let Item::Code { meta, .. } = &scan(text)[1] else {
            unreachable!()
        };
        assert_eq!(meta.session.as_deref(), Some(doctest::SESSION));
    }

    #[test]
    fn crlf_and_bad_indentation() {
        let text = "Title\r\n\r\nimport os\r\nx = os.sep\r\n";
        assert_eq!(
            codes(text),
            vec![(3, 4, "import os\nx = os.sep\n".to_string())]
        );
        // Unexpected indentation without a header: not a Python unit.
        assert!(spans("x = 1\n    y = 2\n").is_empty());
    }

    #[test]
    fn headings_rules() {
        assert_eq!(heading("Q3. How?"), Some("Q3. How?".into()));
        assert_eq!(heading("Getting started"), Some("Getting started".into()));
        for h in [
            "For example,",
            "This is a sentence.",
            "Output:",
            "  indented",
            "• bullet",
            "---",
            &"x".repeat(101),
        ] {
            assert_eq!(heading(h), None, "{h}");
        }
    }

    #[test]
    fn odd_input_does_not_panic() {
        for text in [
            "",
            "\n",
            "\r",
            "\t\n\u{a0}\n",
            "(((",
            ")))",
            "\"\"\"",
            "\\",
            "def",
            "@",
            "x =",
            "é = 1\n",
            "a = '''\n\n'''\n",
            "if x:\n\n",
        ] {
            let _ = scan(text);
        }
    }

    #[test]
    fn large_documents_stay_fast() {
        let start = std::time::Instant::now();
        let big = GUIDE.repeat(100);
        assert_eq!(spans(&big).len(), 1800);
        // Paragraphs that each open a block the next one continues, never completing.
        let mut nested = String::new();
        for depth in 0..300 {
            nested.push_str(&" ".repeat(depth));
            nested.push_str("if x:\n\n");
        }
        assert!(spans(&nested).is_empty());
        assert!(start.elapsed() < std::time::Duration::from_secs(20));
    }
}

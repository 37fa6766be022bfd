//! The prose of a document as a stream of tokens: words, inline code, commas, sentence
//! ends, each with its byte offset and the paragraph it is in. Code examples are left out.

use std::ops::Range;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use snipcheck_record::Snippet;

use crate::markdown::LineIndex;

/// The inline marker that makes the references of its paragraph (and of the next one,
/// when it stands alone) intentionally unresolved; names may follow to narrow it.
pub const IGNORE_MARKER: &str = "snipcheck: ignore-reference";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A run of non-space characters, trimmed of punctuation.
    Word,
    /// The inside of an inline code span.
    Code,
    Comma,
    /// End of a sentence.
    Stop,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) kind: Kind,
    pub(crate) text: String,
    /// Byte offset of the text in the document.
    pub(crate) offset: usize,
    pub(crate) paragraph: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Marker {
    pub(crate) paragraph: usize,
    /// Only these names; every name when empty.
    pub(crate) names: Vec<String>,
    /// The marker is all its paragraph holds, so it speaks about the next one.
    pub(crate) alone: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Prose {
    pub(crate) tokens: Vec<Token>,
    pub(crate) markers: Vec<Marker>,
    paragraph: usize,
    /// Whether the current paragraph received anything, so empty ones take no number.
    used: bool,
}

impl Prose {
    fn brk(&mut self) {
        if self.used {
            self.paragraph += 1;
            self.used = false;
        }
    }

    fn push(&mut self, kind: Kind, text: &str, offset: usize) {
        self.used = true;
        self.tokens.push(Token {
            kind,
            text: text.to_string(),
            offset,
            paragraph: self.paragraph,
        });
    }

    fn marker(&mut self, text: &str) {
        let Some(at) = text.find(IGNORE_MARKER) else {
            return;
        };
        let rest = &text[at + IGNORE_MARKER.len()..];
        let rest = rest.split("-->").next().unwrap_or("");
        let rest = rest.lines().next().unwrap_or("");
        let names = rest
            .split(|c: char| c.is_whitespace() || c == ',')
            .map(|n| n.trim_matches('`'))
            .filter(|n| !n.is_empty())
            .map(String::from)
            .collect();
        self.used = true;
        let before = self.tokens.last().map(|t| t.paragraph);
        self.markers.push(Marker {
            paragraph: self.paragraph,
            names,
            alone: before != Some(self.paragraph),
        });
    }

    /// Tokenizes `chunk`; `at` gives the document offset of each of its byte offsets.
    fn text(&mut self, chunk: &str, at: &dyn Fn(usize) -> usize) {
        let mut i = 0;
        while i < chunk.len() {
            let c = chunk[i..].chars().next().unwrap_or(' ');
            let width = c.len_utf8();
            if c == '`' {
                let run = chunk[i..].bytes().take_while(|&b| b == b'`').count();
                let fence = &chunk[i..i + run];
                if let Some(close) = chunk[i + run..].find(fence) {
                    let inner = &chunk[i + run..i + run + close];
                    let trimmed = inner.trim();
                    let lead = inner.len() - inner.trim_start().len();
                    self.push(Kind::Code, trimmed, at(i + run + lead));
                    i += run + close + run;
                } else {
                    i += run;
                }
                continue;
            }
            if is_separator(c) {
                match c {
                    ',' => self.push(Kind::Comma, ",", at(i)),
                    ';' | '!' | '?' => self.push(Kind::Stop, ";", at(i)),
                    _ => {}
                }
                i += width;
                continue;
            }
            let start = i;
            while i < chunk.len() {
                let c = chunk[i..].chars().next().unwrap_or(' ');
                if is_separator(c) || c == '`' {
                    break;
                }
                i += c.len_utf8();
            }
            self.run(&chunk[start..i], start, at);
        }
    }

    fn run(&mut self, run: &str, index: usize, at: &dyn Fn(usize) -> usize) {
        let lower = run.to_ascii_lowercase();
        if matches!(lower.as_str(), "e.g." | "i.e." | "etc." | "vs." | "cf.") {
            let word = &run[..run.len() - 1];
            self.push(Kind::Word, word, at(index));
            return;
        }
        let trimmed_end = run.trim_end_matches(['.', ':']);
        let ending = &run[trimmed_end.len()..];
        let word = trimmed_end.trim_start_matches(|c: char| !c.is_alphanumeric() && c != '_');
        let lead = trimmed_end.len() - word.len();
        // URLs, e-mail addresses and paths are never API names.
        let link =
            word.contains("://") || lower.starts_with("www.") || word.contains(['@', '/', '\\']);
        if !word.is_empty() && !link {
            self.push(Kind::Word, word, at(index + lead));
        }
        let end = at(index + trimmed_end.len());
        if ending.contains('.') {
            self.push(Kind::Stop, ".", end);
        } else if ending.contains(':') {
            self.push(Kind::Comma, ":", end);
        }
    }
}

fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            ',' | ';'
                | '!'
                | '?'
                | '('
                | ')'
                | '['
                | ']'
                | '{'
                | '}'
                | '"'
                | '\''
                | '\u{2018}'
                | '\u{2019}'
                | '\u{201C}'
                | '\u{201D}'
                | '<'
                | '>'
                | '*'
                | '|'
        )
}

/// Plain text: every line outside the examples; blank lines end paragraphs.
pub(crate) fn text(source: &str, snippets: &[Snippet]) -> Prose {
    let code_lines = CodeLines::new(snippets);
    let mut prose = Prose::default();
    let mut offset = 0;
    for (index, line) in source.split_inclusive('\n').enumerate() {
        let number = index as u32 + 1;
        let in_code = code_lines.contains(number);
        let content = line.trim_end_matches(['\n', '\r']);
        if in_code || content.trim().is_empty() {
            prose.brk();
        } else {
            prose.marker(content);
            prose.text(content, &|i| offset + i);
        }
        offset += line.len();
    }
    prose
}

/// Markdown: text and inline code outside code blocks; blocks end paragraphs. `snippets`
/// are the document's examples: their lines are code, whatever the parser here makes of
/// them (it reads tables, whose rows may run over a fence).
pub(crate) fn markdown(source: &str, snippets: &[Snippet]) -> Prose {
    let mut prose = Prose::default();
    let mut in_code = 0usize;
    // Text arrives in pieces (escapes, entities split it): join consecutive pieces so a
    // name like `snake\_case` stays one word, and remember where each piece came from.
    let mut pending: Option<Joined> = None;
    let flush = |prose: &mut Prose, pending: &mut Option<Joined>| {
        if let Some(joined) = pending.take() {
            prose.marker(&joined.text);
            prose.text(&joined.text, &|i| joined.offset(i));
        }
    };
    let parser = Parser::new_ext(
        source,
        Options::ENABLE_YAML_STYLE_METADATA_BLOCKS | Options::ENABLE_TABLES,
    );
    for (event, range) in parser.into_offset_iter() {
        if let Event::Text(text) = &event {
            if in_code == 0 {
                pending
                    .get_or_insert_with(Joined::default)
                    .push(text, range, source);
                continue;
            }
        }
        flush(&mut prose, &mut pending);
        match event {
            Event::Start(Tag::CodeBlock(_)) | Event::Start(Tag::MetadataBlock(_)) => in_code += 1,
            Event::End(TagEnd::CodeBlock) | Event::End(TagEnd::MetadataBlock(_)) => {
                in_code = in_code.saturating_sub(1)
            }
            Event::Start(
                Tag::Paragraph
                | Tag::Heading { .. }
                | Tag::Item
                | Tag::TableCell
                | Tag::HtmlBlock
                | Tag::BlockQuote(_),
            )
            | Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::TableCell
                | TagEnd::HtmlBlock
                | TagEnd::BlockQuote(_),
            ) => prose.brk(),
            Event::Code(code) if in_code == 0 => {
                // The code as written, where a line break inside it reads as a space.
                let raw = source.get(range.clone()).unwrap_or("");
                let code = code.trim();
                let first = code.split(' ').next().unwrap_or(code);
                let inside = raw.len() - raw.trim_start_matches('`').len();
                let at = raw.find(code).or_else(|| raw.find(first)).unwrap_or(inside);
                prose.push(Kind::Code, code, range.start + at);
            }
            Event::Html(html) | Event::InlineHtml(html) => prose.marker(&html),
            _ => {}
        }
    }
    flush(&mut prose, &mut pending);
    if !snippets.is_empty() {
        let lines = LineIndex::new(source);
        let code_lines = CodeLines::new(snippets);
        prose
            .tokens
            .retain(|t| !code_lines.contains(lines.line_of(t.offset)));
    }
    prose
}

/// The lines of a document's examples, looked up by halving: a document of thousands of
/// examples asked every line of its prose about every example.
struct CodeLines(Vec<(u32, u32)>);

impl CodeLines {
    fn new(snippets: &[Snippet]) -> CodeLines {
        let mut ranges: Vec<(u32, u32)> = snippets.iter().map(|s| (s.line, s.end_line)).collect();
        ranges.sort_unstable();
        // Merged, so that the range starting last at or before a line is the only one
        // that can hold it.
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
        for (start, end) in ranges {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        CodeLines(merged)
    }

    fn contains(&self, line: u32) -> bool {
        let after = self.0.partition_point(|&(start, _)| start <= line);
        after > 0 && line <= self.0[after - 1].1
    }
}

/// Consecutive text pieces of a Markdown paragraph, joined.
#[derive(Default)]
struct Joined {
    text: String,
    /// Where each piece starts in `text`, its source range, and whether the source is the
    /// piece as written (an entity such as `&amp;` is not).
    pieces: Vec<(usize, Range<usize>, bool)>,
}

impl Joined {
    fn push(&mut self, piece: &str, range: Range<usize>, source: &str) {
        let verbatim = source.get(range.clone()) == Some(piece);
        self.pieces.push((self.text.len(), range, verbatim));
        self.text.push_str(piece);
    }

    /// The document offset of byte `i` of the joined text.
    fn offset(&self, i: usize) -> usize {
        let k = self.pieces.partition_point(|(start, ..)| *start <= i);
        match k.checked_sub(1).and_then(|k| self.pieces.get(k)) {
            Some((start, range, true)) => (range.start + (i - start)).min(range.end),
            Some((_, range, false)) => range.start,
            None => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_lines_are_the_lines_of_any_example() {
        let snippet = |line, end_line| Snippet {
            line,
            end_line,
            ..Snippet::default()
        };
        // Unsorted, nested and overlapping, as extraction may give them.
        let lines = CodeLines::new(&[
            snippet(20, 22),
            snippet(3, 8),
            snippet(5, 6),
            snippet(8, 10),
        ]);
        let inside: Vec<u32> = (1..25).filter(|&l| lines.contains(l)).collect();
        assert_eq!(inside, [3, 4, 5, 6, 7, 8, 9, 10, 20, 21, 22]);
        assert!(!CodeLines::new(&[]).contains(1));
    }

    fn words(prose: &Prose) -> Vec<(Kind, &str)> {
        prose
            .tokens
            .iter()
            .map(|t| (t.kind, t.text.as_str()))
            .collect()
    }

    #[test]
    fn tokens_of_a_sentence() {
        let p = text(
            "See https://x.org/a.b, e.g. `json.loads()` or mail a@b.com: data.csv.\n",
            &[],
        );
        assert_eq!(
            words(&p),
            vec![
                (Kind::Word, "See"),
                (Kind::Comma, ","),
                (Kind::Word, "e.g"),
                (Kind::Code, "json.loads()"),
                (Kind::Word, "or"),
                (Kind::Word, "mail"),
                (Kind::Comma, ":"),
                (Kind::Word, "data.csv"),
                (Kind::Stop, "."),
            ]
        );
        let code = &p.tokens[3];
        assert_eq!(code.offset, "See https://x.org/a.b, e.g. `".len());
        // A full stop stands where its word ends, not at the start of the document.
        let stop = p.tokens.last().unwrap();
        assert_eq!(
            stop.offset,
            "See https://x.org/a.b, e.g. `json.loads()` or mail a@b.com: data.csv".len()
        );
    }

    #[test]
    fn plain_text_skips_examples_and_numbers_paragraphs() {
        let source = "One two.\nthree\n\nimport os\nx = 1\nfour\n\nfive\n";
        let snippet = Snippet {
            id: "s".into(),
            path: "a.txt".into(),
            line: 4,
            end_line: 5,
            code: "import os\nx = 1\n".into(),
            ..Snippet::default()
        };
        let p = text(source, &[snippet]);
        let got: Vec<(&str, usize)> = p
            .tokens
            .iter()
            .filter(|t| t.kind == Kind::Word)
            .map(|t| (t.text.as_str(), t.paragraph))
            .collect();
        assert_eq!(
            got,
            vec![
                ("One", 0),
                ("two", 0),
                ("three", 0),
                ("four", 1),
                ("five", 2)
            ]
        );
        assert_eq!(&source[p.tokens[4].offset..][..4], "four");
    }

    #[test]
    fn markdown_code_spans_and_markers() {
        let source = "# Title\n\nUse `os.path` here.\n\n```python\nimport json\n```\n\n\
                      <!-- snipcheck: ignore-reference Foo, `Bar` -->\n\nThe snake\\_case word.\n";
        let p = markdown(source, &[]);
        let code: Vec<&Token> = p.tokens.iter().filter(|t| t.kind == Kind::Code).collect();
        assert_eq!(code.len(), 1);
        assert_eq!(&source[code[0].offset..][..7], "os.path");
        assert!(!p.tokens.iter().any(|t| t.text == "json"));
        assert_eq!(p.markers.len(), 1);
        assert_eq!(p.markers[0].names, vec!["Foo", "Bar"]);
        assert!(p.markers[0].alone);
        let snake = p.tokens.iter().find(|t| t.text == "snake_case").unwrap();
        assert_eq!(snake.paragraph, p.markers[0].paragraph + 1);
        assert_eq!(&source[snake.offset..][..6], "snake\\");
    }

    #[test]
    fn odd_input_does_not_panic() {
        for s in [
            "`",
            "``a`",
            "é`é`é",
            "a.\u{2019}.",
            "<!-- snipcheck: ignore-reference",
            "",
        ] {
            let _ = text(s, &[]);
            let _ = markdown(s, &[]);
        }
    }
}

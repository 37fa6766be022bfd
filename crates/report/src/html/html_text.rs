//! An HTML document as its text: the headings, paragraphs and preformatted blocks a browser
//! would show, each with the source lines it came from (so the examples, recorded at source
//! lines, find their `<pre>`). Read with html5ever's tokenizer; what a browser does not show
//! (the head, scripts, styles, comments) is left out, and no markup is kept.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BlockKind {
    Heading,
    Paragraph,
    Preformatted,
}

#[derive(Debug, PartialEq, Eq)]
pub(super) struct Block {
    pub kind: BlockKind,
    /// Paragraphs and headings with their white space collapsed; preformatted text as is.
    pub text: String,
    pub first_line: u32,
    pub last_line: u32,
}

pub(super) fn blocks(html: &str) -> Vec<Block> {
    let sink = Sink {
        state: RefCell::new(State {
            line: 1,
            ..State::default()
        }),
    };
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let mut state = tokenizer.sink.state.into_inner();
    state.flush();
    state.blocks
}

#[derive(Default)]
struct State {
    blocks: Vec<Block>,
    /// The source line the tokenizer is at: set from each tag (reported at its closing
    /// `>`), then advanced by the newlines of the text that follows.
    line: u32,
    /// Text of the block being read, and the lines of its first and last characters.
    text: String,
    lines: Option<(u32, u32)>,
    kind: Option<BlockKind>,
    /// Nesting of `<pre>`s (invalid, but possible).
    pre_depth: usize,
    /// Inside an element whose content is never shown.
    hidden: Option<String>,
}

struct Sink {
    state: RefCell<State>,
}

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, line_number: u64) -> TokenSinkResult<()> {
        let mut state = self.state.borrow_mut();
        match token {
            Token::CharacterTokens(text) => state.characters(&text),
            Token::TagToken(tag) => {
                state.line = u32::try_from(line_number).unwrap_or(u32::MAX);
                return state.tag(&tag);
            }
            Token::CommentToken(_) | Token::DoctypeToken(_) => {
                state.line = u32::try_from(line_number).unwrap_or(u32::MAX);
            }
            Token::EOFToken | Token::NullCharacterToken | Token::ParseError(_) => {}
        }
        TokenSinkResult::Continue
    }
}

impl State {
    fn characters(&mut self, text: &str) {
        for c in text.chars() {
            if self.hidden.is_none() && (self.pre_depth > 0 || !c.is_whitespace()) {
                let line = self.line;
                self.lines = Some(self.lines.map_or((line, line), |(first, _)| (first, line)));
            }
            if self.hidden.is_none() {
                self.text.push(c);
            }
            if c == '\n' {
                self.line += 1;
            }
        }
    }

    fn tag(&mut self, tag: &Tag) -> TokenSinkResult<()> {
        let name: &str = &tag.name;
        let start = tag.kind == TagKind::StartTag;
        if let Some(hidden) = &self.hidden {
            if !start && hidden == name {
                self.hidden = None;
            }
            return TokenSinkResult::Continue;
        }
        match (name, start) {
            (
                "head" | "script" | "style" | "title" | "template" | "noscript" | "textarea",
                true,
            ) => {
                self.flush();
                // `<head>` holds markup (its title, its styles) the tokenizer reads on.
                if !tag.self_closing {
                    self.hidden = Some(name.to_string());
                }
                return match name {
                    "script" => TokenSinkResult::RawData(RawKind::ScriptData),
                    "style" | "noscript" => TokenSinkResult::RawData(RawKind::Rawtext),
                    "title" | "textarea" => TokenSinkResult::RawData(RawKind::Rcdata),
                    _ => TokenSinkResult::Continue,
                };
            }
            ("pre", true) => {
                if self.pre_depth == 0 {
                    self.flush();
                    self.kind = Some(BlockKind::Preformatted);
                }
                self.pre_depth += 1;
            }
            ("pre", false) if self.pre_depth > 0 => {
                self.pre_depth -= 1;
                if self.pre_depth == 0 {
                    self.flush();
                }
            }
            ("h1" | "h2" | "h3" | "h4" | "h5" | "h6", true) if self.pre_depth == 0 => {
                self.flush();
                self.kind = Some(BlockKind::Heading);
            }
            ("br", _) if self.pre_depth > 0 => self.text.push('\n'),
            _ if self.pre_depth == 0 && breaks_a_block(name) => self.flush(),
            _ => {}
        }
        TokenSinkResult::Continue
    }

    /// Ends the block being read, keeping it when it shows anything.
    fn flush(&mut self) {
        let kind = self.kind.take().unwrap_or(BlockKind::Paragraph);
        let text = std::mem::take(&mut self.text);
        let Some((first_line, last_line)) = self.lines.take() else {
            return;
        };
        let text = match kind {
            BlockKind::Preformatted => text
                .strip_prefix('\n')
                .unwrap_or(&text)
                .trim_end()
                .to_string(),
            _ => text.split_whitespace().collect::<Vec<_>>().join(" "),
        };
        self.blocks.push(Block {
            kind,
            text,
            first_line,
            last_line,
        });
    }
}

/// Elements that start or end a block of text in a browser's default style.
fn breaks_a_block(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "article"
            | "aside"
            | "blockquote"
            | "body"
            | "br"
            | "dd"
            | "details"
            | "dialog"
            | "div"
            | "dl"
            | "dt"
            | "fieldset"
            | "figcaption"
            | "figure"
            | "footer"
            | "form"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "header"
            | "hr"
            | "html"
            | "li"
            | "main"
            | "nav"
            | "ol"
            | "p"
            | "section"
            | "summary"
            | "table"
            | "td"
            | "th"
            | "tr"
            | "ul"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds_and_text(html: &str) -> Vec<(BlockKind, String, u32, u32)> {
        blocks(html)
            .into_iter()
            .map(|b| (b.kind, b.text, b.first_line, b.last_line))
            .collect()
    }

    #[test]
    fn headings_paragraphs_and_pre_blocks_with_their_lines() {
        let html = "<!DOCTYPE html>\n<html><head><title>T</title>\n<style>p { x }</style></head>\n<body>\n\
                    <h2>Q1. A   question?</h2>\n<p>Some <b>bold</b>\nprose &amp; more.</p>\n\
                    <pre><code>import os\n<span>print(1)</span>\n</code></pre>\n<script>var a = '<p>no</p>';</script>\n\
                    <!-- a comment --><ul><li>one</li><li>two</li></ul></body></html>\n";
        assert_eq!(
            kinds_and_text(html),
            [
                (BlockKind::Heading, "Q1. A question?".into(), 5, 5),
                (BlockKind::Paragraph, "Some bold prose & more.".into(), 6, 7),
                (BlockKind::Preformatted, "import os\nprint(1)".into(), 8, 9),
                (BlockKind::Paragraph, "one".into(), 12, 12),
                (BlockKind::Paragraph, "two".into(), 12, 12),
            ]
        );
    }
}

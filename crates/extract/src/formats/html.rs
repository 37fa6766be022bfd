//! HTML: the examples of a published page, in `<pre>` blocks (with or without a `<code>`
//! inside, with highlighter markup such as nested `<span>`s), found with html5ever's
//! spec-compliant tokenizer so that entities, comments, `<script>` bodies and odd markup
//! read exactly as a browser reads them.
//!
//! The language comes from the classes of the `<code>`, the `<pre>` or an enclosing
//! `<div>` (`language-python`, `highlight-python`, `sourceCode python`, `lang-py`...).
//! An untagged `<pre>` is taken when it is a `>>>` session or reads as Python as a whole
//! (the plain-text rules); one tagged with another language never is. Lines are lines of
//! the HTML source.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use html5ever::Attribute;
use snipcheck_record::{Diagnostic, SnippetKind};

use crate::doctest;
use crate::formats::text;
use crate::ids::{Item, Meta};
use crate::markers::{self, Markers, Waiting};
use crate::output;
use crate::Lang;

/// Scans an HTML document for headings and Python blocks.
pub(crate) fn scan(text: &str, path: &str) -> (Vec<Item>, Vec<Diagnostic>) {
    let sink = Sink {
        state: RefCell::new(State {
            path: path.to_string(),
            line: 1,
            waiting: Waiting::new(path),
            ..State::default()
        }),
    };
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(text));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let mut state = tokenizer.sink.state.into_inner();
    state.finish_pre();
    state.waiting.interrupt(&mut state.diagnostics);
    let lines = SourceLines::new(text);
    let (mut items, mut diagnostics) = (state.items, state.diagnostics);
    for item in &mut items {
        if let Item::Code {
            line,
            end_line,
            meta,
            ..
        } = item
        {
            *line = lines.of(*line);
            *end_line = lines.of(*end_line);
            if let Some(output) = meta.expected_output.as_mut() {
                output.line = lines.of(output.line);
                output.end_line = lines.of(output.end_line);
            }
            for l in &mut meta.lines {
                *l = lines.of(*l);
            }
        }
    }
    for d in &mut diagnostics {
        d.line = d.line.map(|l| lines.of(l));
    }
    (items, diagnostics)
}

/// The tokenizer's line numbers as document lines. HTML takes a lone `\r` for a line
/// break as well as `\n` and `\r\n`, and so does html5ever when it counts lines; a
/// document's lines are those `\n` ends, as every other format counts them.
struct SourceLines {
    /// The document line of each tokenizer line, the first at index 0.
    lines: Vec<u32>,
}

impl SourceLines {
    fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut lines = vec![1];
        let mut line = 1u32;
        for (i, b) in bytes.iter().enumerate() {
            match b {
                b'\n' => {
                    line = line.saturating_add(1);
                    lines.push(line);
                }
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => lines.push(line),
                _ => {}
            }
        }
        SourceLines { lines }
    }

    fn of(&self, tokenizer_line: u32) -> u32 {
        let index = usize::try_from(tokenizer_line.saturating_sub(1)).unwrap_or(usize::MAX);
        let last = self.lines.last().copied().unwrap_or(1);
        self.lines.get(index).copied().unwrap_or(last)
    }
}

#[derive(Default)]
struct State {
    path: String,
    items: Vec<Item>,
    diagnostics: Vec<Diagnostic>,
    /// The source line the tokenizer is at: set from each tag (tags are reported at
    /// their closing `>`), then advanced by the newlines of the text that follows.
    line: u32,
    /// Languages of the open `<div>`s, innermost last.
    divs: Vec<Option<Lang>>,
    heading: Option<(String, String)>,
    pre: Option<Pre>,
    /// The last block was a Python example (an output block may follow it).
    after_example: bool,
    /// `<!-- snipcheck: ... -->` markers waiting for the next `<pre>`.
    waiting: Waiting,
}

/// A `<pre>` being collected.
struct Pre {
    lang: Option<Lang>,
    text: String,
    /// Source line of each line of `text`.
    lines: Vec<u32>,
    /// Nested `<pre>`s (invalid, but possible) close before this one.
    depth: usize,
    /// The markers before it, and the line of the first.
    marked: Option<(u32, Markers)>,
}

struct Sink {
    state: RefCell<State>,
}

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, line_number: u64) -> TokenSinkResult<()> {
        let mut state = self.state.borrow_mut();
        let line = u32::try_from(line_number).unwrap_or(u32::MAX);
        match token {
            Token::CharacterTokens(t) => state.characters(&t, line),
            Token::TagToken(tag) => {
                state.line = line;
                return state.tag(&tag);
            }
            Token::CommentToken(comment) => {
                state.line = line;
                if state.pre.is_none() {
                    if let Some(words) = markers::html_comment(&format!("<!--{comment}-->")) {
                        // Reported where it ends: a marker is on the line it starts on.
                        let newlines = u32::try_from(comment.matches('\n').count());
                        let start = line.saturating_sub(newlines.unwrap_or(0));
                        let State {
                            waiting,
                            diagnostics,
                            ..
                        } = &mut *state;
                        waiting.comment(start, words, diagnostics);
                    }
                }
            }
            Token::DoctypeToken(_) => state.line = line,
            Token::EOFToken => state.finish_pre(),
            Token::NullCharacterToken | Token::ParseError(_) => {}
        }
        TokenSinkResult::Continue
    }
}

impl State {
    /// Text from the tokenizer; `line` is its line after the text. A newline decoded from
    /// a character reference (`&#10;`) is no line break of the source: the tokenizer's line
    /// does not move over it.
    fn characters(&mut self, text: &str, line: u32) {
        let breaks = line > self.line;
        self.text(text, breaks);
        self.line = self.line.max(line);
    }

    /// Text, whose newlines are line breaks of the source when `breaks` (not those of a
    /// `<br>` or a character reference, which stand on the line they are written on).
    fn text(&mut self, text: &str, breaks: bool) {
        for c in text.chars() {
            let step = u32::from(c == '\n' && breaks);
            if let Some(pre) = self.pre.as_mut() {
                if pre.lines.is_empty() {
                    pre.lines.push(self.line);
                }
                pre.text.push(c);
                if c == '\n' {
                    pre.lines.push(self.line.saturating_add(step));
                }
            } else if let Some((_, heading)) = self.heading.as_mut() {
                heading.push(c);
            } else if !c.is_whitespace() && self.waiting.is_waiting() {
                // Prose between a marker and its block.
                self.waiting.interrupt(&mut self.diagnostics);
            }
            self.line = self.line.saturating_add(step);
        }
    }

    fn tag(&mut self, tag: &Tag) -> TokenSinkResult<()> {
        let name: &str = &tag.name;
        let start = tag.kind == TagKind::StartTag;
        match (name, start) {
            ("pre", true) => match self.pre.as_mut() {
                Some(pre) => pre.depth += 1,
                None => {
                    let lang =
                        lang_of(&tag.attrs).or_else(|| self.divs.iter().rev().find_map(|l| *l));
                    self.pre = Some(Pre {
                        lang,
                        text: String::new(),
                        lines: Vec::new(),
                        depth: 0,
                        marked: self.waiting.take(),
                    });
                }
            },
            ("pre", false) => match self.pre.as_mut() {
                Some(pre) if pre.depth > 0 => pre.depth -= 1,
                _ => self.finish_pre(),
            },
            ("code", true) => {
                if let Some(pre) = self.pre.as_mut() {
                    // The innermost class wins: `<pre class="highlight"><code class=
                    // "language-python">`.
                    if let Some(lang) = lang_of(&tag.attrs) {
                        pre.lang = Some(lang);
                    }
                }
            }
            ("br", _) if self.pre.is_some() => self.text("\n", false),
            ("div", true) => self.divs.push(lang_of(&tag.attrs)),
            ("div", false) => {
                self.divs.pop();
            }
            ("h1" | "h2" | "h3" | "h4" | "h5" | "h6", true) if self.pre.is_none() => {
                self.waiting.interrupt(&mut self.diagnostics);
                self.heading = Some((name.to_string(), String::new()));
            }
            ("h1" | "h2" | "h3" | "h4" | "h5" | "h6", false)
                if self.heading.as_ref().is_some_and(|(h, _)| h == name) =>
            {
                let text = self.heading.take().map(|(_, t)| heading_text(&t));
                if let Some(text) = text.filter(|t| !t.is_empty()) {
                    self.items.push(Item::Heading(text));
                }
            }
            // Elements whose content is not markup: tell the tokenizer, as a browser's
            // tree builder does, so that `<pre>` inside a script is not a block.
            ("script", true) => return TokenSinkResult::RawData(RawKind::ScriptData),
            ("style" | "xmp" | "iframe" | "noembed" | "noframes" | "noscript", true) => {
                return TokenSinkResult::RawData(RawKind::Rawtext)
            }
            ("textarea" | "title", true) => return TokenSinkResult::RawData(RawKind::Rcdata),
            ("plaintext", true) => return TokenSinkResult::Plaintext,
            _ => {}
        }
        TokenSinkResult::Continue
    }

    /// Turns the `<pre>` being collected (if any) into an example or an output block.
    fn finish_pre(&mut self) {
        let Some(mut pre) = self.pre.take() else {
            return;
        };
        let marked = pre.marked.take();
        let item = self.pre_item(pre);
        match (item, marked) {
            (Some(mut item), marked) => {
                if let (Item::Code { meta, .. }, Some((_, markers))) = (&mut item, marked) {
                    *meta.markers = markers;
                }
                self.after_example =
                    matches!(&item, Item::Code { meta, .. } if meta.kind == SnippetKind::Python);
                self.items.push(item);
            }
            (None, Some((line, _))) => self.waiting.unused(line, &mut self.diagnostics),
            (None, None) => {}
        }
    }

    /// The example a finished `<pre>` holds (an output block is attached to the example
    /// before it instead).
    fn pre_item(&mut self, pre: Pre) -> Option<Item> {
        let lines: Vec<&str> = pre.text.split('\n').collect();
        let first = lines.iter().position(|l| !l.trim().is_empty())?;
        let last = lines
            .iter()
            .rposition(|l| !l.trim().is_empty())
            .unwrap_or(first);
        let body = &lines[first..=last];
        let (line, end_line) = (pre.lines[first], pre.lines[last]);
        let code = doctest::dedent(body);
        let session = doctest::is_session(&code);
        let follows_example = std::mem::take(&mut self.after_example);
        let example = |code| Item::Code {
            line,
            end_line,
            code,
            // Where each line is, for the `#>` comments read later.
            meta: Box::new(Meta {
                lines: pre.lines[first..=last].to_vec(),
                ..Meta::default()
            }),
        };
        match pre.lang {
            Some(Lang::Output) => {
                output::attach(
                    &mut self.items,
                    follows_example,
                    code,
                    (line, end_line),
                    &self.path,
                    &mut self.diagnostics,
                );
                None
            }
            Some(Lang::Other) => None,
            Some(Lang::Console) | None if session => Some(Item::Code {
                line,
                end_line,
                code,
                meta: Box::new(doctest::session_meta()),
            }),
            Some(Lang::Console) => None,
            Some(Lang::Python) => Some(example(code)),
            // Untagged: only when the plain-text rules read the whole block as one example.
            None if text::whole_code(&code) => Some(example(code)),
            None => None,
        }
    }
}

/// Heading text as shown: whitespace collapsed, permalink marks (`¶`, `#`) dropped.
fn heading_text(raw: &str) -> String {
    let words: Vec<&str> = raw.split_whitespace().collect();
    let text = words.join(" ");
    text.trim_end_matches(['\u{b6}', '#', ' ', '\u{1f517}'])
        .to_string()
}

/// The language named by an element's `class` (or `data-lang`) attribute.
fn lang_of(attrs: &[Attribute]) -> Option<Lang> {
    let value = |name: &str| {
        attrs
            .iter()
            .find(|a| &*a.name.local == name)
            .map(|a| a.value.to_string())
    };
    if let Some(lang) = value("data-lang").or_else(|| value("data-language")) {
        if let Some(l) = Lang::from_name(&lang) {
            return Some(l);
        }
    }
    let classes = value("class")?;
    let mut found = None;
    for class in classes.split_whitespace() {
        let class = class.trim_end_matches(';').to_ascii_lowercase();
        if class == "output" || class.ends_with("-output") {
            return Some(Lang::Output);
        }
        let named = CLASS_PREFIXES.iter().find_map(|p| class.strip_prefix(p));
        match (Lang::from_name(named.unwrap_or(&class)), named) {
            (Some(lang), _) => found = Some(lang),
            // `language-bash`, `highlight-none`; but `highlight-default` decides nothing.
            (None, Some(other)) if !other.is_empty() && other != "default" => {
                found = found.or(Some(Lang::Other));
            }
            _ => {}
        }
    }
    found
}

/// Class prefixes highlighters put before a language name (longest first).
const CLASS_PREFIXES: &[&str] = &[
    "highlight-source-",
    "highlight-",
    "language-",
    "lang-",
    "brush:",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn snippets(html: &str) -> Vec<(u32, u32, String)> {
        Item::codes(scan(html, "t.html").0)
    }

    #[test]
    fn highlighted_blocks_and_entities() {
        let html = "<h2>Use it</h2>\n<div class=\"highlight-python notranslate\"><div class=\"highlight\"><pre><span></span><span class=\"kn\">import</span> <span class=\"nn\">os</span>\n<span class=\"k\">if</span> <span class=\"mi\">1</span> &lt; 2 &amp;&amp; &#8217;x&#x2019;:\n    <span class=\"nb\">print</span>()\n</pre></div></div>\n";
        assert_eq!(
            snippets(html),
            [(
                2,
                4,
                "import os\nif 1 < 2 && \u{2019}x\u{2019}:\n    print()\n".to_string()
            )]
        );
    }

    #[test]
    fn leading_newline_and_code_class() {
        let html = "<p>Intro</p>\n<pre class=\"highlight\"><code class=\"language-python\">\nx = 1\n\ny = 2\n</code></pre>\n<pre><code class=\"language-bash\">pip install x</code></pre>\n";
        assert_eq!(snippets(html), [(3, 5, "x = 1\n\ny = 2\n".to_string())]);
    }

    #[test]
    fn untagged_pre_must_read_as_python() {
        let html = "<pre>\nimport os\nprint(os.sep)\n</pre>\n<pre>\nThis is prose in a pre.\n</pre>\n<pre>\n&gt;&gt;&gt; 1 + 1\n2\n</pre>\n";
        let got = snippets(html);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], (2, 3, "import os\nprint(os.sep)\n".to_string()));
        assert_eq!(got[1], (9, 10, ">>> 1 + 1\n2\n".to_string()));
        let (items, _) = scan(html, "t.html");
        let Item::Code { meta, .. } = &items[1] else {
            unreachable!()
        };
        assert_eq!(meta.session.as_deref(), Some("doctest"));
    }

    #[test]
    fn script_bodies_and_comments_are_not_blocks() {
        let html = "<script>var s = '<pre class=\"language-python\">x = 1</pre>';</script>\n<!-- <pre class=\"language-python\">y = 2</pre> -->\n<textarea><pre>z = 3</pre></textarea>\n<pre class=\"language-python\">w = 4</pre>\n";
        assert_eq!(snippets(html), [(4, 4, "w = 4\n".to_string())]);
    }

    #[test]
    fn headings_and_output_blocks() {
        let html = "<h1>Guide</h1>\n<h3 id=\"q\">Q3. How\n  <em>now</em>?<a class=\"headerlink\" href=\"#q\">\u{b6}</a></h3>\n<pre class=\"language-python\">print(1)</pre>\n<pre class=\"output\">1</pre>\n<pre class=\"output\">2</pre>\n";
        let (items, diagnostics) = scan(html, "t.html");
        assert_eq!(items[0], Item::Heading("Guide".into()));
        assert_eq!(items[1], Item::Heading("Q3. How now?".into()));
        let Item::Code { meta, line, .. } = &items[2] else {
            unreachable!()
        };
        assert_eq!(*line, 4);
        let expected = meta.expected_output.as_ref().unwrap();
        assert_eq!((expected.text.as_str(), expected.line), ("1\n", 5));
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].line, Some(6));
    }

    #[test]
    fn crlf_and_unterminated_pre() {
        let html = "<h2>T</h2>\r\n<pre class=\"python\">\r\na = 1\r\nb = 2\r\n";
        assert_eq!(snippets(html), [(3, 4, "a = 1\nb = 2\n".to_string())]);
    }

    /// Newlines that are not line breaks of the source (a character reference, a `<br>`,
    /// a lone carriage return, which HTML takes for one) once moved spans past the end.
    #[test]
    fn lines_are_source_lines() {
        let html = "<pre class=\"language-python\">a = 1&#10;b = 2<br>c = 3</pre>\n<p>&#10;</p>\n<pre class=\"language-python\">d = 4</pre>";
        assert_eq!(
            snippets(html),
            [
                (1, 1, "a = 1\nb = 2\nc = 3\n".to_string()),
                (3, 3, "d = 4\n".to_string())
            ]
        );
        let html = "<h2>T</h2>\r<pre class=\"python\">\ra = 1\rb = 2\r</pre>\n<pre class=\"python\">c = 3</pre>\r\n";
        assert_eq!(
            snippets(html),
            [
                (1, 1, "a = 1\nb = 2\n".to_string()),
                (2, 2, "c = 3\n".to_string())
            ]
        );
        let (_, diagnostics) = scan("\r\r<pre class=\"output\">&#10;&#10;1</pre>", "t.html");
        assert_eq!(diagnostics[0].line, Some(1));
        // A marker comment is on its first line, also when it runs to the end of the file.
        let (_, diagnostics) = scan("<p>x</p>\n<!-- snipcheck: bogus\n\n-->\n", "t.html");
        assert_eq!(diagnostics[0].line, Some(2));
        let (_, diagnostics) = scan("<p>x</p>\n<!-- snipcheck: bogus -\n", "t.html");
        assert_eq!(diagnostics[0].line, Some(2));
    }

    #[test]
    fn hostile_markup_does_not_panic() {
        for html in [
            "",
            "<pre",
            "<pre>",
            "</pre></pre><pre><pre>x = 1</pre>",
            "<h2><pre>x = 1</pre></h2>",
            "<div></div></div></div><pre class='language-python'>y = 2</pre>",
            "&#0; &#xFFFFFFFF; &bogus;",
            "<plaintext><pre>",
            "\u{feff}<pre class=python>\0</pre>",
        ] {
            let _ = scan(html, "t.html");
        }
    }
}

#[cfg(test)]
mod marker_tests {
    use super::*;

    #[test]
    fn comments_before_pre() {
        let html = "<h1>T</h1>\n<!-- snipcheck: skip reason=\"needs a GPU\" -->\n<div class=\"highlight\"><pre class=\"language-python\">x = 1\n</pre></div>\n\
                    <!-- snipcheck: timeout=2 -->\n<p>Prose.</p>\n<pre class=\"language-python\">y = 2\n</pre>\n\
                    <!-- snipcheck: xfail -->\n<pre class=\"language-bash\">ls\n</pre>\n<!-- snipcheck: bogus -->\n";
        let (items, diagnostics) = scan(html, "t.html");
        let markers = Item::markers(items);
        assert_eq!(markers.len(), 2);
        assert_eq!(
            markers[0].skip.as_ref().unwrap().reason.as_deref(),
            Some("needs a GPU")
        );
        assert!(markers[1].is_empty());
        let lines: Vec<Option<u32>> = diagnostics.iter().map(|d| d.line).collect();
        assert_eq!(lines, [Some(5), Some(9), Some(12)]);
        assert!(diagnostics[0].message.contains("no code block"));
        assert!(diagnostics[1].message.contains("not a Python example"));
        assert!(diagnostics[2].message.starts_with("unknown marker `bogus`"));
    }
}

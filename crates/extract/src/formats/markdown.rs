//! Markdown: fenced code blocks tagged as Python, found with a CommonMark parser so that
//! fences in lists and block quotes, longer fences and `~~~` fences behave exactly as a
//! renderer shows them.

use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use snipcheck_record::{Diagnostic, Severity, SnippetKind};

use crate::doctest;
use crate::ids::{Item, Meta};
use crate::markers::{self, Markers, Waiting};
use crate::output;
use crate::Lang;

/// Scans a Markdown document for headings and Python blocks.
pub(crate) fn scan(text: &str, path: &str) -> (Vec<Item>, Vec<Diagnostic>) {
    let lines = LineIndex::new(text);
    let mut items = Vec::new();
    let mut diagnostics = Vec::new();
    let mut heading: Option<String> = None;
    let mut block: Option<Block> = None;
    // The last code block was a plain Python example: an output block may follow it.
    let mut after_example = false;
    // Marker comments wait for the code block right after them.
    let mut waiting = Waiting::new(path);
    let mut html: Option<(u32, String)> = None;

    let parser = Parser::new_ext(text, Options::ENABLE_YAML_STYLE_METADATA_BLOCKS);
    for (event, range) in parser.into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { .. }) => {
                waiting.interrupt(&mut diagnostics);
                heading = Some(String::new());
                after_example = false;
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some(h) = heading.take() {
                    items.push(Item::Heading(h.trim().to_string()));
                }
            }
            Event::Start(Tag::HtmlBlock) => {
                html = Some((lines.line_of(range.start), String::new()))
            }
            Event::Html(t) => {
                if let Some((_, block)) = html.as_mut() {
                    block.push_str(&t);
                }
            }
            Event::End(TagEnd::HtmlBlock) => {
                if let Some((line, block)) = html.take() {
                    match markers::html_comment(&block) {
                        Some(words) => waiting.comment(line, words, &mut diagnostics),
                        // Other comments (`<!-- prettier-ignore -->`) may stand in between.
                        None if block.trim_start().starts_with("<!--") => {}
                        None => waiting.interrupt(&mut diagnostics),
                    }
                }
            }
            Event::InlineHtml(t) if markers::html_comment(&t).is_some() => {
                diagnostics.push(Diagnostic {
                    path: path.to_string(),
                    line: Some(lines.line_of(range.start)),
                    severity: Severity::Error,
                    message: "a snipcheck marker must stand on a line of its own, right \
                              before the code block it is for"
                        .into(),
                });
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match &kind {
                    CodeBlockKind::Fenced(info) => lang_of(info),
                    CodeBlockKind::Indented => Lang::Other,
                };
                let mut marked = waiting.take();
                if let (CodeBlockKind::Fenced(info), Lang::Python | Lang::Console) = (&kind, lang) {
                    let fence_line = lines.line_of(range.start);
                    let words = info.split_once(char::is_whitespace).map_or("", |(_, w)| w);
                    match Markers::parse_info(words) {
                        Ok(info) if info.is_empty() => {}
                        Ok(info) => marked
                            .get_or_insert((fence_line, Markers::default()))
                            .1
                            .merge(info),
                        Err(message) => diagnostics.push(Diagnostic {
                            path: path.to_string(),
                            line: Some(fence_line),
                            severity: Severity::Error,
                            message,
                        }),
                    }
                }
                if let CodeBlockKind::Fenced(_) = kind {
                    if let Some(open_line) = unterminated(text, &range, &lines) {
                        diagnostics.push(Diagnostic {
                            path: path.to_string(),
                            line: Some(open_line),
                            severity: Severity::Warning,
                            message: format!(
                                "unterminated code fence opened at line {open_line} runs to \
                                 the end of the document"
                            ),
                        });
                    }
                }
                block = Some(Block {
                    lang,
                    code: String::new(),
                    span: None,
                    marked,
                });
            }
            Event::Start(_) => waiting.interrupt(&mut diagnostics),
            Event::End(TagEnd::CodeBlock) => {
                if let Some(mut b) = block.take() {
                    let marked = b.marked.take();
                    let follows_example = std::mem::take(&mut after_example);
                    if b.lang == Lang::Output {
                        if let Some(span) = &b.span {
                            let line = lines.line_of(span.start);
                            let end_line =
                                lines.line_of(span.end.saturating_sub(1).max(span.start));
                            let text = b.code.replace("\r\n", "\n");
                            let items = &mut items[..];
                            output::attach(
                                items,
                                follows_example,
                                text,
                                (line, end_line),
                                path,
                                &mut diagnostics,
                            );
                        }
                    } else if let Some(mut item) = b.finish(&lines) {
                        after_example = matches!(&item, Item::Code { meta, .. } if meta.kind == SnippetKind::Python);
                        if let (Item::Code { meta, .. }, Some((_, markers))) = (&mut item, marked) {
                            *meta.markers = markers;
                        }
                        items.push(item);
                        continue;
                    }
                    if let Some((line, _)) = marked {
                        waiting.unused(line, &mut diagnostics);
                    }
                }
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some(b) = block.as_mut() {
                    b.code.push_str(&t);
                    let span = b.span.get_or_insert(range.clone());
                    span.end = range.end;
                } else if let Some(h) = heading.as_mut() {
                    h.push_str(&t);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some(h) = heading.as_mut() {
                    h.push(' ');
                }
            }
            _ => {}
        }
    }
    waiting.interrupt(&mut diagnostics);
    (items, diagnostics)
}

/// The block's kind from its info string's first word (case-insensitive): a Python name
/// (a `>>>` session when the code starts with the prompt), or an output block, marked by
/// the first word `output` or a `title="Output"` attribute (the Material for MkDocs way).
fn lang_of(info: &str) -> Lang {
    let first = info.split_whitespace().next().unwrap_or("");
    if let Some(lang) = Lang::from_name(first) {
        lang
    } else if first.eq_ignore_ascii_case("output")
        || info.to_ascii_lowercase().contains("title=\"output\"")
    {
        Lang::Output
    } else {
        Lang::Other
    }
}

/// A code block being collected.
struct Block {
    lang: Lang,
    code: String,
    /// Byte range from the first content byte to the last.
    span: Option<Range<usize>>,
    /// Its markers, and the line of the first one.
    marked: Option<(u32, Markers)>,
}

impl Block {
    fn finish(self, lines: &LineIndex) -> Option<Item> {
        let span = self.span?;
        if self.code.trim().is_empty() {
            return None;
        }
        let code = self.code.replace("\r\n", "\n");
        let line = lines.line_of(span.start);
        let end_line = lines.line_of(span.end.saturating_sub(1).max(span.start));
        // A `>>>` session tagged `python` is a doctest, as in many READMEs.
        let meta = match self.lang {
            Lang::Python | Lang::Console if doctest::is_session(&code) => doctest::session_meta(),
            Lang::Python => Meta::default(),
            Lang::Console | Lang::Output | Lang::Other => return None,
        };
        Some(Item::Code {
            line,
            end_line,
            code,
            meta: Box::new(meta),
        })
    }
}

/// When the fenced block at `range` has no closing fence and runs to the end of the
/// document, the line of its opening fence. (A fence left open inside a list or quote is
/// closed by the container and is not reported.)
fn unterminated(text: &str, range: &Range<usize>, lines: &LineIndex) -> Option<u32> {
    let block = text.get(range.clone())?;
    if !text.get(range.end..).unwrap_or("").trim().is_empty() {
        return None;
    }
    let opening = block.trim_start_matches([' ', '\t']);
    let fence_char = opening.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let fence_len = opening.chars().take_while(|c| *c == fence_char).count();
    let body = block.trim_end_matches(['\n', '\r']);
    let open_line = lines.line_of(range.start);
    let last_start = body.rfind('\n').map_or(0, |i| i + 1);
    let last_line = lines.line_of(range.start + last_start);
    let last = body[last_start..].trim_start_matches([' ', '\t', '>']);
    let closes = last_line > open_line && {
        let run = last.chars().take_while(|c| *c == fence_char).count();
        run >= fence_len && last[run * fence_char.len_utf8()..].trim().is_empty()
    };
    (!closes).then_some(open_line)
}

/// Byte offset to 1-based line number.
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    pub(crate) fn line_of(&self, offset: usize) -> u32 {
        let line = self.starts.partition_point(|&s| s <= offset);
        u32::try_from(line).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (line, end_line, code) of each snippet.
    fn snippets(text: &str) -> Vec<(u32, u32, String)> {
        Item::codes(scan(text, "t.md").0)
    }

    fn spans(text: &str) -> Vec<(u32, u32)> {
        snippets(text).into_iter().map(|(a, b, _)| (a, b)).collect()
    }

    #[test]
    fn backtick_and_tilde_fences() {
        let md = "# T\n\n```python\nx = 1\ny = 2\n```\n\n~~~python\nz = 3\n~~~\n";
        assert_eq!(
            snippets(md),
            vec![
                (4, 5, "x = 1\ny = 2\n".to_string()),
                (9, 9, "z = 3\n".to_string())
            ]
        );
    }

    #[test]
    fn longer_fence_contains_shorter() {
        let md = "````python\ns = '''\n```\n'''\n````\n";
        assert_eq!(
            snippets(md),
            vec![(2, 4, "s = '''\n```\n'''\n".to_string())]
        );
        assert!(scan(md, "t.md").1.is_empty());
    }

    #[test]
    fn indented_fence_is_deindented() {
        let md = "Text\n\n   ```python\n   if x:\n       y = 1\n   ```\n";
        assert_eq!(snippets(md), vec![(4, 5, "if x:\n    y = 1\n".to_string())]);
    }

    #[test]
    fn fences_in_list_and_quote() {
        let md =
            "- item\n\n  ```python\n  a = 1\n  b = 2\n  ```\n\n> ```py\n> c = 3\n> d = 4\n> ```\n";
        assert_eq!(
            snippets(md),
            vec![
                (4, 5, "a = 1\nb = 2\n".to_string()),
                (9, 10, "c = 3\nd = 4\n".to_string())
            ]
        );
    }

    #[test]
    fn which_tags_count() {
        let blocks = [
            ("python", true),
            ("py", true),
            ("Python", true),
            ("PYTHON3", true),
            ("python title=\"x.py\"", true),
            ("pycon", false),
            ("output", false),
            ("python-repl", false),
            ("console", false),
            ("bash", false),
            ("", false),
            ("{.python}", false),
        ];
        for (info, taken) in blocks {
            let md = format!("```{info}\nx = 1\n```\n");
            assert_eq!(spans(&md).len(), usize::from(taken), "{info:?}");
        }
        // Indented code blocks are not examples.
        assert!(spans("Text\n\n    x = 1\n").is_empty());
    }

    #[test]
    fn unterminated_fence_runs_to_end() {
        let md = "# T\n\n```python\nx = 1\n\n# more\n";
        let (items, diags) = scan(md, "t.md");
        assert_eq!(items.len(), 2);
        assert_eq!(spans(md), vec![(4, 6)]);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].line, Some(3));
        assert_eq!(diags[0].severity, Severity::Warning);
        assert_eq!(
            diags[0].message,
            "unterminated code fence opened at line 3 runs to the end of the document"
        );
        // Closed fences at end of file, with or without a final newline, are fine.
        for md in [
            "```python\nx\n```",
            "```python\nx\n```\n\n",
            "~~~~py\nx\n~~~~~  \n",
        ] {
            assert!(scan(md, "t.md").1.is_empty(), "{md:?}");
        }
        // A shorter fence does not close a longer one.
        let (_, diags) = scan("````python\nx\n```\n", "t.md");
        assert_eq!(diags.len(), 1);
        // An opening fence on the last line.
        let (items, diags) = scan("text\n\n```python", "t.md");
        assert!(items.is_empty());
        assert_eq!(diags[0].line, Some(3));
    }

    #[test]
    fn empty_blocks_skipped() {
        assert!(spans("```python\n```\n").is_empty());
        assert!(spans("```python\n\n   \n```\n").is_empty());
    }

    fn metas(md: &str) -> Vec<Meta> {
        Item::examples(scan(md, "t.md").0)
            .into_iter()
            .map(|(.., meta)| meta)
            .collect()
    }

    #[test]
    fn sessions_in_python_and_pycon_fences() {
        let md = "```python\n>>> 1 + 1\n2\n```\n\n```pycon\n\n>>> x = 1\n```\n\n```pycon\n$ not a session\n```\n\n```python\nx = 1  # >>> not a prompt\n```\n";
        assert_eq!(spans(md), [(2, 3), (7, 8), (16, 16)]);
        let kinds: Vec<Option<String>> = metas(md).into_iter().map(|m| m.session).collect();
        assert_eq!(
            kinds,
            [Some("doctest".into()), Some("doctest".into()), None]
        );
    }

    #[test]
    fn output_fences_follow_their_example() {
        let md = "# T\n\n```python\nprint(1)\n```\n\n```output\n1\n```\n\n```py\nprint(2)\n```\n\nIt prints:\n\n```text title=\"Output\"\n2\n```\n\n```bash\nls\n```\n\n```output\nfile\n```\n";
        let (items, diags) = scan(md, "t.md");
        let expected: Vec<Option<(String, u32)>> = metas(md)
            .into_iter()
            .map(|m| m.expected_output.map(|o| (o.text, o.line)))
            .collect();
        assert_eq!(
            expected,
            [Some(("1\n".into(), 8)), Some(("2\n".into(), 18))]
        );
        assert_eq!(items.len(), 3);
        // The output of a shell block is not an example's: reported, not attached.
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].line, Some(26));
    }

    #[test]
    fn crlf_line_endings() {
        let md = "# T\r\n\r\n```python\r\nx = 1\r\ny = 2\r\n```\r\n\r\nText\r\n";
        assert_eq!(snippets(md), vec![(4, 5, "x = 1\ny = 2\n".to_string())]);
        let (items, _) = scan(md, "t.md");
        assert_eq!(items[0], Item::Heading("T".into()));
    }

    #[test]
    fn headings_atx_and_setext() {
        let md = "Intro\n=====\n\n```python\na\n```\n\n## Step *2*: `go`\n\n```python\nb\n```\n";
        let (items, _) = scan(md, "t.md");
        assert_eq!(items[0], Item::Heading("Intro".into()));
        assert_eq!(items[2], Item::Heading("Step 2: go".into()));
        // Code spans in headings are heading text, not snippets.
        assert_eq!(spans(md), vec![(5, 5), (11, 11)]);
    }

    #[test]
    fn line_index() {
        let idx = LineIndex::new("a\nbc\n\nd");
        let got: Vec<u32> = (0..8).map(|o| idx.line_of(o)).collect();
        assert_eq!(got, [1, 1, 2, 2, 2, 3, 4, 4]);
    }
}

#[cfg(test)]
mod marker_tests {
    use super::*;
    use snipcheck_record::{Category, Expectation};

    fn marked(md: &str) -> (Vec<Markers>, Vec<(Option<u32>, String)>) {
        let (items, diagnostics) = scan(md, "t.md");
        let markers = Item::markers(items);
        let diagnostics = diagnostics
            .into_iter()
            .inspect(|d| assert_eq!(d.severity, Severity::Error))
            .map(|d| (d.line, d.message))
            .collect();
        (markers, diagnostics)
    }

    #[test]
    fn comments_and_info_strings() {
        let md = "# T\n\n<!-- snipcheck: skip reason=\"needs a GPU\" -->\n```python\nx\n```\n\n\
                  <!-- snipcheck: xfail -->\n\n<!-- snipcheck: timeout=5 -->\n```python title=\"a.py\" fixture=ml\nx\n```\n\n\
                  ```py session=setup expect=missing-name\nx\n```\n\n```python\nx\n```\n";
        let (markers, diagnostics) = marked(md);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(
            markers[0].skip.as_ref().unwrap().reason.as_deref(),
            Some("needs a GPU")
        );
        // Two comments and the info string add up.
        assert_eq!(markers[1].xfail, Some(Expectation::default()));
        assert_eq!(markers[1].timeout, Some(5.0));
        assert_eq!(markers[1].fixtures, ["ml"]);
        assert_eq!(markers[2].session.as_deref(), Some("setup"));
        assert_eq!(
            markers[2].xfail.as_ref().unwrap().category,
            Some(Category::MissingName)
        );
        assert!(markers[3].is_empty());
    }

    #[test]
    fn markers_that_apply_to_nothing_are_errors() {
        let md = "<!-- snipcheck: skip -->\nSome prose.\n\n```python\nx\n```\n\n\
                  <!-- snipcheck: skip -->\n```bash\nls\n```\n\n\
                  Text <!-- snipcheck: skip --> inline.\n\n\
                  <!-- snipcheck: skipp -->\n```python\nx\n```\n\n\
                  ```python timeout=soon\nx\n```\n\n<!-- snipcheck: xfail -->\n";
        let (markers, diagnostics) = marked(md);
        assert_eq!(markers.len(), 3);
        assert!(markers.iter().all(Markers::is_empty));
        let lines: Vec<Option<u32>> = diagnostics.iter().map(|d| d.0).collect();
        assert_eq!(
            lines,
            [Some(1), Some(8), Some(13), Some(15), Some(20), Some(24)]
        );
        assert!(diagnostics[0].1.contains("stands before no code block"));
        assert!(diagnostics[1].1.contains("not a Python example"));
        assert!(diagnostics[2].1.contains("on a line of its own"));
        assert!(diagnostics[3].1.starts_with("unknown marker `skipp`"));
        assert!(diagnostics[4].1.starts_with("timeout=soon"));
        assert!(diagnostics[5].1.contains("stands before no code block"));
    }

    #[test]
    fn other_comments_and_reference_directives_are_not_markers() {
        let md = "<!-- snipcheck: ignore-reference Foo -->\nFoo is fine.\n\n\
                  <!-- snipcheck: fixture=ml -->\n<!-- prettier-ignore -->\n```python\nx\n```\n\n\
                  ```bash skip\nls\n```\n";
        let (markers, diagnostics) = marked(md);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(markers[0].fixtures, ["ml"]);
    }
}

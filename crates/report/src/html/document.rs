//! The document view: each checked document as its reader sees it, with every failing
//! example and wrong claim marked where it stands (the wrong name highlighted in its
//! sentence with the suggestion beside it, the failing line of an example with its reason)
//! and the passing ones marked quietly.
//!
//! Markdown is rendered by pulldown-cmark ([`super::markdown_view`]), HTML shown as its text
//! ([`super::html_text`]), plain text as paragraphs and headings. No well-kept Rust renderer
//! exists for reStructuredText, so it is shown as preformatted paragraphs with its underlined
//! headings; notebooks and Python files in their source form. The marks sit on the record's
//! lines either way.

use std::collections::HashSet;
use std::fmt::Write;

use snipcheck_record::{Reference, SnippetRecord, Status};

use crate::facts;
use crate::findings::Subject;
use crate::source::{self, Lines, Source, SourceFormat};

use super::html_text::{self, BlockKind};
use super::{claim_note, escape, failure_note, snippet_anchor, write_code, Page};

pub(super) fn write_documents(out: &mut String, page: &Page) {
    let shown: Vec<&Source> = ordered_documents(page);
    if shown.is_empty() {
        return;
    }
    out.push_str("<section id=\"documents\" aria-labelledby=\"documents-title\">\n<h2 id=\"documents-title\">Documents</h2>\n");
    for source in shown {
        write_document(out, page, source);
    }
    out.push_str("</section>\n");
}

/// The documents the caller gave the text of, those with findings first (in the order of
/// their first finding), then the others in record order.
fn ordered_documents<'a>(page: &'a Page) -> Vec<&'a Source<'a>> {
    let mut shown: Vec<&Source> = Vec::new();
    let with_findings = page.findings.iter().map(|f| f.path());
    for path in with_findings.chain(facts::documents(page.record)) {
        if let Some(source) = source::find(page.sources, path) {
            if !shown.iter().any(|s| s.path == source.path) {
                shown.push(source);
            }
        }
    }
    shown
}

fn write_document(out: &mut String, page: &Page, source: &Source) {
    let mut marks = Marks::new(page, source);
    let count = page
        .findings
        .iter()
        .filter(|f| f.path() == source.path)
        .count();
    let _ = writeln!(
        out,
        "<article class=\"document\">\n<h3 class=\"document-title\">{} <span class=\"tally\">{count} finding{}</span></h3>",
        page.path(source.path, None),
        facts::plural(count as u32)
    );
    // A document with nothing to fix is folded: a reader opens it if they want to.
    if count == 0 {
        out.push_str("<details class=\"document-fold\"><summary>show the document</summary>\n");
    }
    let _ = writeln!(
        out,
        "<div class=\"doc-body {}\">",
        format_class(source.format)
    );
    match source.format {
        SourceFormat::Markdown => super::markdown_view::write(out, page, &mut marks, source.text),
        SourceFormat::Text => write_lines(out, page, &mut marks, Layout::TEXT),
        SourceFormat::Rst => write_lines(out, page, &mut marks, Layout::RST),
        SourceFormat::Html => write_html_text(out, page, &mut marks, source.text),
        SourceFormat::Notebook | SourceFormat::Python => {
            write_lines(out, page, &mut marks, Layout::SOURCE)
        }
    }
    out.push_str("</div>\n");
    write_unplaced(out, page, &marks);
    if count == 0 {
        out.push_str("</details>\n");
    }
    out.push_str("</article>\n");
}

fn format_class(format: SourceFormat) -> &'static str {
    match format {
        SourceFormat::Text => "text",
        SourceFormat::Markdown => "markdown",
        SourceFormat::Rst => "rst",
        SourceFormat::Html => "html",
        SourceFormat::Notebook => "notebook",
        SourceFormat::Python => "python",
    }
}

/// The claims and examples of one document, and which of them found their place.
pub(super) struct Marks<'a> {
    pub lines: Lines<'a>,
    /// By line, then column.
    claims: Vec<&'a Reference>,
    /// By first line.
    examples: Vec<&'a SnippetRecord>,
    placed_claims: HashSet<*const Reference>,
    placed_examples: HashSet<*const SnippetRecord>,
}

impl<'a> Marks<'a> {
    fn new(page: &Page<'a>, source: &Source<'a>) -> Self {
        let mut claims: Vec<&Reference> = page
            .record
            .references
            .iter()
            .filter(|r| r.path == source.path)
            .collect();
        claims.sort_by_key(|r| (r.line, r.column));
        let mut examples: Vec<&SnippetRecord> = page
            .record
            .snippets
            .iter()
            .filter(|e| e.snippet.path == source.path)
            .collect();
        examples.sort_by_key(|e| e.snippet.line);
        Marks {
            lines: Lines::new(source.text),
            claims,
            examples,
            placed_claims: HashSet::new(),
            placed_examples: HashSet::new(),
        }
    }

    /// The claims whose place falls in a byte range of the document, with their offsets.
    pub fn claims_in(&self, range: std::ops::Range<usize>) -> Vec<(usize, &'a Reference)> {
        let (first, last) = (
            self.lines.line_of(range.start),
            self.lines
                .line_of(range.end.saturating_sub(1).max(range.start)),
        );
        let from = self.claims.partition_point(|r| r.line < first);
        self.claims[from..]
            .iter()
            .take_while(|r| r.line <= last)
            .filter_map(|r| {
                let offset = self.lines.offset(r.line, r.column)?;
                range.contains(&offset).then_some((offset, *r))
            })
            .collect()
    }

    fn claims_between(&self, first: u32, last: u32) -> Vec<&'a Reference> {
        let from = self.claims.partition_point(|r| r.line < first);
        self.claims[from..]
            .iter()
            .take_while(|r| r.line <= last)
            .copied()
            .collect()
    }

    /// The example whose code starts on one of these lines.
    pub fn example_within(&self, first: u32, last: u32) -> Option<&'a SnippetRecord> {
        let from = self.examples.partition_point(|e| e.snippet.line < first);
        self.examples
            .get(from)
            .filter(|e| e.snippet.line <= last)
            .copied()
    }

    pub fn place_example(&mut self, entry: &SnippetRecord) {
        self.placed_examples.insert(entry as *const _);
    }

    pub fn place_claim(&mut self, reference: &Reference) {
        self.placed_claims.insert(reference as *const _);
    }
}

/// How a line-based document is laid out.
#[derive(Clone, Copy)]
struct Layout {
    /// Paragraphs reflow as prose (plain text) or keep their lines (reST, source forms).
    prose: bool,
    /// A one-line paragraph that reads as a title is a heading (plain text).
    title_lines: bool,
    /// A line underlined (or over- and underlined) with punctuation is a heading.
    underlines: bool,
}

impl Layout {
    const TEXT: Layout = Layout {
        prose: true,
        title_lines: true,
        underlines: true,
    };
    const RST: Layout = Layout {
        prose: false,
        title_lines: false,
        underlines: true,
    };
    const SOURCE: Layout = Layout {
        prose: false,
        title_lines: false,
        underlines: false,
    };
}

/// Paragraphs between blank lines, headings, and each example where its code starts.
fn write_lines(out: &mut String, page: &Page, marks: &mut Marks, layout: Layout) {
    let mut paragraph: Vec<u32> = Vec::new();
    let mut number = 1;
    while number <= marks.lines.count() {
        if let Some(entry) = marks.example_within(number, number) {
            write_paragraph(out, page, marks, &paragraph, layout);
            paragraph.clear();
            write_example(out, page, entry);
            marks.place_example(entry);
            number = entry.snippet.end_line.max(number) + 1;
            continue;
        }
        if marks.lines.line(number).trim().is_empty() {
            write_paragraph(out, page, marks, &paragraph, layout);
            paragraph.clear();
        } else {
            paragraph.push(number);
        }
        number += 1;
    }
    write_paragraph(out, page, marks, &paragraph, layout);
}

fn write_paragraph(
    out: &mut String,
    page: &Page,
    marks: &mut Marks,
    lines: &[u32],
    layout: Layout,
) {
    if lines.is_empty() {
        return;
    }
    let text = |n: u32| marks.lines.line(n);
    let title = match *lines {
        [title, under] if layout.underlines && is_underline(text(under), text(title)) => {
            Some(title)
        }
        [over, title, under]
            if layout.underlines
                && is_underline(text(over), text(title))
                && is_underline(text(under), text(title)) =>
        {
            Some(title)
        }
        [line] if layout.title_lines && reads_as_title(text(line)) => Some(line),
        _ => None,
    };
    if let Some(title) = title {
        out.push_str("<h4 class=\"doc-heading\">");
        write_marked_line(out, page, marks, title);
        out.push_str("</h4>\n");
        return;
    }
    out.push_str(if layout.prose {
        "<p>"
    } else {
        "<pre class=\"prose\">"
    });
    for (i, &line) in lines.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        write_marked_line(out, page, marks, line);
    }
    out.push_str(if layout.prose { "</p>\n" } else { "</pre>\n" });
}

/// An HTML document as its text, each `<pre>` that holds an example replaced by it. Claims
/// are recorded at source columns, which the text does not keep: each is looked for by its
/// name in the block of its line.
fn write_html_text(out: &mut String, page: &Page, marks: &mut Marks, html: &str) {
    for block in html_text::blocks(html) {
        if block.kind == BlockKind::Preformatted {
            if let Some(entry) = marks.example_within(block.first_line, block.last_line) {
                write_example(out, page, entry);
                marks.place_example(entry);
                continue;
            }
        }
        let wanted: Vec<(Option<usize>, &Reference)> = marks
            .claims_between(block.first_line, block.last_line)
            .into_iter()
            .map(|r| (None, r))
            .collect();
        let (open, close) = match block.kind {
            BlockKind::Heading => ("<h4 class=\"doc-heading\">", "</h4>\n"),
            BlockKind::Paragraph => ("<p>", "</p>\n"),
            BlockKind::Preformatted => ("<pre class=\"prose\">", "</pre>\n"),
        };
        out.push_str(open);
        write_marked(out, page, marks, &block.text, &wanted);
        out.push_str(close);
    }
}

/// reST's section adornment: one punctuation character repeated at least as long as the title.
fn is_underline(line: &str, title: &str) -> bool {
    let line = line.trim_end();
    let mut chars = line.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    "=-~^\"'`#*+:._".contains(first)
        && chars.all(|c| c == first)
        && line.chars().count() >= title.trim().chars().count().max(2)
}

/// A short line on its own that does not end like a sentence or a list entry: "Q5. How do
/// you handle missing values?", "Intermediate Interview Questions".
fn reads_as_title(line: &str) -> bool {
    let line = line.trim();
    line.chars().count() <= 100
        && line.chars().any(char::is_alphabetic)
        && !line.ends_with(['.', ',', ';', ':'])
        && !line.starts_with(['-', '*', '+', '>', '#'])
}

fn write_marked_line(out: &mut String, page: &Page, marks: &mut Marks, number: u32) {
    let line = marks.lines.line(number);
    let wanted: Vec<(Option<usize>, &Reference)> = marks
        .claims_between(number, number)
        .into_iter()
        .map(|r| (source::byte_of_column(line, r.column), r))
        .collect();
    write_marked(out, page, marks, line, &wanted);
}

/// Text with the claims in it marked: each at its expected byte offset when its name is
/// there, else at the name's first occurrence; a claim whose name is not in the text is
/// left for [`write_unplaced`].
pub(super) fn write_marked(
    out: &mut String,
    page: &Page,
    marks: &mut Marks,
    text: &str,
    wanted: &[(Option<usize>, &Reference)],
) {
    let mut found: Vec<(usize, &Reference)> = wanted
        .iter()
        .filter_map(|&(at, r)| Some((source::locate_at(text, at, &r.text)?, r)))
        .collect();
    found.sort_by_key(|&(at, _)| at);
    let mut cursor = 0;
    for (at, reference) in found {
        // Two claims over the same words: the first one marks them.
        if at < cursor {
            continue;
        }
        out.push_str(&escape(&text[cursor..at]));
        let end = at + reference.text.len();
        write_claim(out, page, reference, &escape(&text[at..end]));
        marks.place_claim(reference);
        cursor = end;
    }
    out.push_str(&escape(&text[cursor..]));
}

/// A claim in its sentence: a finding highlighted with its verdict and suggestion beside it,
/// anything else underlined quietly with its resolution on hover.
pub(super) fn write_claim(out: &mut String, page: &Page, reference: &Reference, inner: &str) {
    match page.claim_finding(reference) {
        Some(number) => {
            let severity = facts::severity_name(reference.severity);
            let _ = write!(
                out,
                "<mark class=\"claim {severity}\" id=\"finding-{number}\" data-finding=\"{number}\" tabindex=\"-1\">{inner}</mark>\
                 <span class=\"note {severity}\">{}</span>",
                claim_note(reference, false)
            );
        }
        None => {
            let _ = write!(
                out,
                "<span class=\"claim {}\" title=\"{}\">{inner}</span>",
                facts::reference_status_name(reference.status),
                escape(&facts::reference_verdict(reference).replace('`', ""))
            );
        }
    }
}

/// An example where it stands: its code with the failing line and reason marked, or a quiet
/// frame when it passed.
pub(super) fn write_example(out: &mut String, page: &Page, entry: &SnippetRecord) {
    let status = entry.outcome.status.to_string();
    let _ = write!(out, "<figure class=\"example {status}\"");
    if let Some(number) = page.example_finding(entry) {
        let _ = write!(
            out,
            " id=\"finding-{number}\" data-finding=\"{number}\" tabindex=\"-1\""
        );
    }
    let _ = write!(
        out,
        "><figcaption><span class=\"badge {status}\">{status}</span> "
    );
    if entry.outcome.status == Status::Failed {
        let _ = write!(
            out,
            "<span class=\"cat\">{}</span> ",
            entry.outcome.category
        );
    }
    let _ = writeln!(
        out,
        "<a href=\"#{}\">details of {}</a></figcaption>",
        snippet_anchor(entry),
        escape(&entry.snippet.id)
    );
    write_code(out, entry, true);
    // A failure outside the code's lines (a timeout) has no line to sit under.
    if entry.outcome.status == Status::Failed && facts::error_line_in_snippet(entry).is_none() {
        let _ = writeln!(out, "<p class=\"why\">{}</p>", failure_note(entry));
    }
    out.push_str("</figure>\n");
}

/// Findings of the document whose place was not found in its text (a column past the end
/// of its line, a name the renderer split): listed after it, so every finding has a mark.
fn write_unplaced(out: &mut String, page: &Page, marks: &Marks) {
    let unplaced: Vec<&Subject> = page
        .findings
        .iter()
        .map(|f| &f.subject)
        .filter(|subject| match subject {
            Subject::Claim(r) => {
                marks.claims.iter().any(|c| std::ptr::eq(*c, *r))
                    && !marks.placed_claims.contains(&(*r as *const _))
            }
            Subject::Example(e) => {
                marks.examples.iter().any(|c| std::ptr::eq(*c, *e))
                    && !marks.placed_examples.contains(&(*e as *const _))
            }
            Subject::Input(_) => false,
        })
        .collect();
    if unplaced.is_empty() {
        return;
    }
    out.push_str("<div class=\"unplaced\"><h4>Not found in the text</h4>\n");
    for subject in unplaced {
        match subject {
            Subject::Claim(reference) => {
                let _ = write!(out, "<p>line {}: ", reference.line);
                write_claim(out, page, reference, &escape(&reference.text));
                out.push_str("</p>\n");
            }
            Subject::Example(entry) => write_example(out, page, entry),
            Subject::Input(_) => {}
        }
    }
    out.push_str("</div>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    fn documents() -> String {
        let (record, sources) = (fixture::record(), fixture::sources());
        let page = Page::new(&record, &sources);
        let mut out = String::new();
        write_documents(&mut out, &page);
        out
    }

    #[test]
    fn wrong_claims_are_marked_in_their_sentence_with_the_suggestion_beside() {
        let html = documents();
        assert!(html.contains(
            "<p>Use <mark class=\"claim error\" id=\"finding-1\" data-finding=\"1\" tabindex=\"-1\">Imputer</mark>\
             <span class=\"note error\">not found in sklearn &mdash; did you mean <code>sklearn.impute.SimpleImputer</code>?</span> to fill the gaps."
        ), "{html}");
        assert!(html.contains("<mark class=\"claim warning\" id=\"finding-5\""));
        assert!(html.contains(
            "<span class=\"claim resolved\" title=\"resolves to sklearn.impute.SimpleImputer\">SimpleImputer</span>"
        ));
        // Every claim and example of a shown document has its mark; input problems have
        // theirs in their own list.
        for number in [1, 2, 3, 5] {
            assert!(
                html.contains(&format!("id=\"finding-{number}\"")),
                "finding {number}"
            );
        }
        assert!(!html.contains("id=\"finding-4\"") && !html.contains("id=\"finding-6\""));
        assert!(!html.contains("Not found in the text"));
    }

    #[test]
    fn examples_stand_where_they_are_with_their_verdict() {
        let html = documents();
        assert!(html.contains("<figure class=\"example passed\"><figcaption><span class=\"badge passed\">passed</span>"));
        assert!(html.contains("<figure class=\"example failed\" id=\"finding-2\""));
        // The timeout happened on no line: its reason follows the code.
        assert!(html.contains("<p class=\"why\">Timeout: still running after 2 s; stopped</p>"));
        assert!(html.contains("<figure class=\"example skipped\">"));
        assert!(html.contains("<h4 class=\"doc-heading\">Other notes</h4>"));
    }

    #[test]
    fn the_documents_own_markup_cannot_act_in_the_report() {
        let html = documents();
        assert!(html.contains("and &lt;script&gt;alert(2)&lt;/script&gt; stays text."));
        assert!(!html.contains("javascript:"));
        assert!(html.contains("<span class=\"link\">a link</span>"));
        assert!(html.contains("<span class=\"image\">[image: a picture]</span>"));
        assert!(!html.contains("example.org"));
        assert!(!html.contains("snipcheck: skip"), "comments are not shown");
        // The document's h1 sits below the report's headings.
        assert!(html.contains("<h4>A guide</h4>"));
    }

    #[test]
    fn headings_of_plain_text_and_rest() {
        assert!(reads_as_title(
            "Q5. How do you handle missing values in a dataset?"
        ));
        assert!(reads_as_title("Intermediate Interview Questions"));
        assert!(!reads_as_title("For example,"));
        assert!(!reads_as_title("- a list entry"));
        assert!(!reads_as_title("It ends like a sentence."));
        assert!(is_underline("=======", "Title"));
        assert!(!is_underline("===", "A longer title"));
        assert!(!is_underline("=-=-", "Ti"));
    }
}

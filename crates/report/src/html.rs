//! A self-contained HTML report that opens on its findings: a sidebar lists them errors
//! first, each a link to its place in the document view, where every checked document is
//! shown as its reader sees it with the failing examples and wrong claims marked in place.
//! Below come the list views: every snippet with its code, reason, suggestion and captured
//! output (filtered by status and category), the claims in the prose, the input problems.
//!
//! One file with inline CSS and JavaScript and no network access, so it opens from a CI
//! artifact as it is. Every piece of record and document text goes through [`escape`].

mod document;
mod html_text;
mod markdown_view;
mod sidebar;

use std::collections::HashMap;
use std::fmt::Write;

use snipcheck_record::{Captured, Diagnostic, Record, Reference, SnippetRecord, Status};

use crate::facts;
use crate::findings::{findings, Finding, Subject};
use crate::source::{Source, Texts};

const STYLE: &str = include_str!("html/report.css");
const SCRIPT: &str = include_str!("html/report.js");

/// What every part of the page reads: the record, its findings in order, the documents'
/// text, and the shortened paths.
struct Page<'a> {
    record: &'a Record,
    sources: &'a [Source<'a>],
    texts: Texts<'a>,
    findings: Vec<Finding<'a>>,
    short_paths: HashMap<&'a str, String>,
    /// Finding numbers by what they are about.
    example_findings: HashMap<*const SnippetRecord, usize>,
    claim_findings: HashMap<*const Reference, usize>,
    input_findings: HashMap<*const Diagnostic, usize>,
}

impl<'a> Page<'a> {
    fn new(record: &'a Record, sources: &'a [Source<'a>]) -> Self {
        let findings = findings(record);
        let mut example_findings = HashMap::new();
        let mut claim_findings = HashMap::new();
        let mut input_findings = HashMap::new();
        for finding in &findings {
            match finding.subject {
                Subject::Example(entry) => {
                    example_findings.insert(entry as *const _, finding.number);
                }
                Subject::Claim(reference) => {
                    claim_findings.insert(reference as *const _, finding.number);
                }
                Subject::Input(diagnostic) => {
                    input_findings.insert(diagnostic as *const _, finding.number);
                }
            }
        }
        Page {
            record,
            sources,
            texts: Texts::new(sources),
            findings,
            short_paths: facts::short_paths(&facts::documents(record)),
            example_findings,
            claim_findings,
            input_findings,
        }
    }

    fn example_finding(&self, entry: &SnippetRecord) -> Option<usize> {
        self.example_findings.get(&(entry as *const _)).copied()
    }

    fn claim_finding(&self, reference: &Reference) -> Option<usize> {
        self.claim_findings.get(&(reference as *const _)).copied()
    }

    fn input_finding(&self, diagnostic: &Diagnostic) -> Option<usize> {
        self.input_findings.get(&(diagnostic as *const _)).copied()
    }

    /// A path as a reader can tell it apart, with the full path on hover.
    fn path(&self, path: &str, line: Option<u32>) -> String {
        let short = self.short_paths.get(path).map_or(path, String::as_str);
        let (short, full) = match line {
            Some(line) => (format!("{short}:{line}"), format!("{path}:{line}")),
            None => (short.to_string(), path.to_string()),
        };
        format!(
            "<span class=\"path\" title=\"{}\">{}</span>",
            escape(&full),
            escape(&short)
        )
    }
}

pub fn render_html(record: &Record, sources: &[Source]) -> String {
    let page = Page::new(record, sources);
    let s = &record.summary;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>snipcheck report: {} failed of {}, {} unresolved references</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        s.failed, s.snippets, s.unresolved_references
    );
    let _ = writeln!(out, "<header>\n<h1>snipcheck report</h1>");
    let _ = write!(
        out,
        "<p class=\"meta\">{}",
        escape(&facts::summary_sentence(record))
    );
    if let Some(python) = &record.python {
        let _ = write!(out, " &middot; Python {}", escape(&python.version));
    }
    let _ = writeln!(
        out,
        " &middot; {} {}</p>",
        escape(&record.tool.name),
        escape(&record.tool.version)
    );
    write_counts(&mut out, record);
    out.push_str("</header>\n<div class=\"page\">\n");
    sidebar::write(&mut out, &page);
    out.push_str("<main>\n");
    document::write_documents(&mut out, &page);
    write_snippets(&mut out, &page);
    write_references(&mut out, &page);
    write_diagnostics(&mut out, &page);
    let _ = write!(
        out,
        "</main>\n</div>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n"
    );
    out
}

fn write_counts(out: &mut String, record: &Record) {
    let s = &record.summary;
    out.push_str("<ul class=\"counts\">\n");
    for (key, label, n) in [
        ("snippets", "snippets", s.snippets),
        ("passed", "passed", s.passed),
        ("failed", "failed", s.failed),
        ("skipped", "skipped", s.skipped),
        ("references", "references", s.references),
        (
            "unresolved",
            "unresolved references",
            s.unresolved_references,
        ),
        ("errors", "input errors", s.errors),
    ] {
        let _ = writeln!(
            out,
            "<li class=\"count {key}\"><span class=\"n\" id=\"count-{key}\">{n}</span> {label}</li>"
        );
    }
    out.push_str("</ul>\n");
}

fn write_filters(out: &mut String, record: &Record) {
    out.push_str("<form class=\"filters\" id=\"filters\" aria-label=\"Filter snippets\">\n");
    out.push_str("<fieldset><legend>Status</legend>\n");
    for status in ["all", "failed", "passed", "skipped"] {
        let checked = if status == "all" { " checked" } else { "" };
        let _ = writeln!(
            out,
            "<label><input type=\"radio\" name=\"status\" value=\"{status}\"{checked}> {status}</label>"
        );
    }
    out.push_str("</fieldset>\n<label class=\"category\">Category <select name=\"category\" id=\"category\">\n<option value=\"all\">all</option>\n");
    let mut present: Vec<&str> = record
        .snippets
        .iter()
        .map(|e| e.outcome.category.as_str())
        .collect();
    present.sort_unstable();
    present.dedup();
    for category in present {
        let _ = writeln!(out, "<option value=\"{category}\">{category}</option>");
    }
    let total = record.snippets.len();
    let _ = writeln!(
        out,
        "</select></label>\n<p class=\"shown\">showing <span id=\"shown\">{total}</span> of {total} snippets</p>\n</form>"
    );
}

/// Failures first, then skipped, then passed snippets; document order within each.
fn write_snippets(out: &mut String, page: &Page) {
    let record = page.record;
    out.push_str("<section id=\"snippets\" aria-labelledby=\"snippets-title\">\n<h2 id=\"snippets-title\">Snippets</h2>\n");
    write_filters(out, record);
    if record.snippets.is_empty() {
        out.push_str("<p class=\"empty\">No snippets were found.</p>\n");
    }
    for status in [Status::Failed, Status::Skipped, Status::Passed] {
        for entry in record
            .snippets
            .iter()
            .filter(|e| e.outcome.status == status)
        {
            write_snippet(out, page, entry);
        }
    }
    out.push_str("</section>\n");
}

fn write_snippet(out: &mut String, page: &Page, entry: &SnippetRecord) {
    let (snippet, outcome) = (&entry.snippet, &entry.outcome);
    let status = outcome.status.to_string();
    let open = if outcome.status == Status::Failed {
        " open"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "<details class=\"snippet {status}\" data-status=\"{status}\" data-category=\"{}\" id=\"{}\"{open}>",
        outcome.category,
        snippet_anchor(entry)
    );
    let _ = write!(
        out,
        "<summary><span class=\"badge {status}\">{status}</span> "
    );
    // The category says more than the status only for failures.
    if outcome.status == Status::Failed {
        let _ = write!(out, "<span class=\"cat\">{}</span> ", outcome.category);
    }
    let _ = write!(
        out,
        "<code class=\"where\">{}</code> <span class=\"id\">{}</span>",
        page.path(&snippet.path, Some(facts::focus_line(entry))),
        escape(&snippet.id)
    );
    if let Some(section) = &snippet.section {
        let _ = write!(out, " <span class=\"section\">{}</span>", escape(section));
    }
    out.push_str("</summary>\n");
    if let Some(reason) = facts::reason(entry) {
        let _ = writeln!(out, "<p class=\"reason\">{}</p>", escape(&reason));
    }
    if let Some(help) = facts::help(&outcome.suggestions) {
        let _ = writeln!(out, "<p class=\"help\">help: {}</p>", code_html(&help));
    }
    write_code(out, entry, false);
    if let Some(traceback) = outcome.error.as_ref().and_then(|e| e.traceback.as_ref()) {
        let _ = writeln!(
            out,
            "<details class=\"output\"><summary>traceback</summary><pre>{}</pre></details>",
            escape(traceback)
        );
    }
    write_captured(out, "stdout", &outcome.stdout);
    write_captured(out, "stderr", &outcome.stderr);
    out.push_str("</details>\n");
}

/// The id of a snippet's entry in the list view.
fn snippet_anchor(entry: &SnippetRecord) -> String {
    // Ids repeat across documents: the path keeps them apart.
    format!(
        "snippet-{}",
        escape(&format!("{}-{}", entry.snippet.path, entry.snippet.id))
    )
}

/// The id of a claim's row in the list view.
fn claim_anchor(reference: &Reference) -> String {
    format!(
        "claim-{}",
        escape(&format!("{}-{}", reference.path, reference.id))
    )
}

/// A snippet's code with line numbers and the failing line highlighted; `annotate` puts the
/// reason and suggestion right under that line (the document view, where no summary says it).
fn write_code(out: &mut String, entry: &SnippetRecord, annotate: bool) {
    let hit = facts::error_line_in_snippet(entry);
    // Focusable, so that a keyboard can scroll a long line into view.
    out.push_str("<pre class=\"code\" tabindex=\"0\"><code>");
    for (number, text) in (entry.snippet.line..).zip(entry.snippet.code.lines()) {
        let class = if Some(number) == hit {
            "line hit"
        } else {
            "line"
        };
        let _ = write!(
            out,
            "<span class=\"{class}\"><span class=\"ln\">{number}</span>{}\n</span>",
            escape(text)
        );
        if annotate && Some(number) == hit {
            let _ = write!(
                out,
                "<span class=\"line why\"><span class=\"ln\" aria-hidden=\"true\">&#8627;</span>{}\n</span>",
                failure_note(entry)
            );
        }
    }
    out.push_str("</code></pre>\n");
}

/// The reason of a failure and its suggestion, as HTML.
fn failure_note(entry: &SnippetRecord) -> String {
    let mut note = code_html(&facts::reason(entry).unwrap_or_default());
    if let Some(help) = facts::help(&entry.outcome.suggestions) {
        let _ = write!(
            note,
            " <span class=\"help\">&mdash; {}</span>",
            code_html(&help)
        );
    }
    note
}

fn write_captured(out: &mut String, title: &str, captured: &Captured) {
    if captured.text.is_empty() {
        return;
    }
    let mut text = escape(&captured.text);
    if captured.truncated_bytes > 0 {
        let _ = write!(text, "\n[{} more bytes not kept]", captured.truncated_bytes);
    }
    let _ = writeln!(
        out,
        "<details class=\"output\" open><summary>{title}</summary><pre>{text}</pre></details>"
    );
}

/// Unresolved claims first (errors, then warnings), then the unchecked and ignored ones;
/// the resolved ones folded away, since nothing needs doing about them.
fn write_references(out: &mut String, page: &Page) {
    let record = page.record;
    out.push_str("<section id=\"references\" aria-labelledby=\"references-title\">\n<h2 id=\"references-title\">References in the prose</h2>\n");
    if record.references.is_empty() {
        out.push_str("<p class=\"empty\">No API references were checked.</p>\n</section>\n");
        return;
    }
    let (resolved, open): (Vec<&Reference>, Vec<&Reference>) = record
        .references
        .iter()
        .partition(|r| r.status == snipcheck_record::ReferenceStatus::Resolved);
    let mut open = open;
    open.sort_by_key(|r| {
        (
            !facts::reference_is_finding(r),
            std::cmp::Reverse(r.severity),
        )
    });
    if !open.is_empty() {
        write_reference_table(out, page, &open);
    }
    if !resolved.is_empty() {
        let _ = writeln!(
            out,
            "<details class=\"resolved-claims\"><summary>{} resolved reference{}</summary>",
            resolved.len(),
            facts::plural(resolved.len() as u32)
        );
        write_reference_table(out, page, &resolved);
        out.push_str("</details>\n");
    }
    out.push_str("</section>\n");
}

fn write_reference_table(out: &mut String, page: &Page, references: &[&Reference]) {
    out.push_str(
        "<table>\n<thead><tr><th scope=\"col\">where</th><th scope=\"col\">status</th><th scope=\"col\">severity</th>\
         <th scope=\"col\">reference</th><th scope=\"col\">resolution</th></tr></thead>\n<tbody>\n",
    );
    for reference in references {
        write_reference(out, page, reference);
    }
    out.push_str("</tbody>\n</table>\n");
}

fn write_reference(out: &mut String, page: &Page, reference: &Reference) {
    let status = facts::reference_status_name(reference.status);
    let mut resolution = code_html(&facts::reference_message(reference));
    if let Some(help) = facts::help(&reference.suggestions) {
        let _ = write!(
            resolution,
            "<br><span class=\"help\">help: {}</span>",
            code_html(&help)
        );
    }
    let _ = writeln!(
        out,
        "<tr class=\"reference {status}\" id=\"{}\"><td>{}</td><td><span class=\"badge {status}\">{status}</span></td>\
         <td>{}</td><td><code>{}</code></td><td>{resolution}</td></tr>",
        claim_anchor(reference),
        page.path(&reference.path, Some(reference.line)),
        facts::severity_name(reference.severity),
        escape(&reference.text),
    );
}

/// Input problems have no place in a document's text: their entries here are their marks.
fn write_diagnostics(out: &mut String, page: &Page) {
    let record = page.record;
    if record.diagnostics.is_empty() {
        return;
    }
    out.push_str("<section id=\"diagnostics\" aria-labelledby=\"diagnostics-title\">\n<h2 id=\"diagnostics-title\">Input problems</h2>\n<ul>\n");
    for diagnostic in &record.diagnostics {
        let severity = facts::severity_name(diagnostic.severity);
        let mark = match page.input_finding(diagnostic) {
            Some(n) => format!(" id=\"finding-{n}\" data-finding=\"{n}\" tabindex=\"-1\""),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "<li class=\"{severity}\"{mark}><span class=\"badge {severity}\">{severity}</span> <code>{}</code> {}</li>",
            escape(&facts::diagnostic_place(diagnostic)),
            escape(&diagnostic.message)
        );
    }
    out.push_str("</ul>\n</section>\n");
}

/// Where a finding's link goes: its place in the document view when the document is shown
/// (an input problem's entry in its list), else its entry in the list views.
fn finding_target(page: &Page, finding: &Finding) -> String {
    let shown = crate::source::find(page.sources, finding.path()).is_some();
    match finding.subject {
        Subject::Input(_) => finding.anchor(),
        _ if shown => finding.anchor(),
        Subject::Example(entry) => snippet_anchor(entry),
        Subject::Claim(reference) => claim_anchor(reference),
    }
}

/// What a finding says, in one line of HTML.
fn finding_message(finding: &Finding) -> String {
    match finding.subject {
        Subject::Example(entry) => format!(
            "example fails (<span class=\"cat\">{}</span>): {}",
            entry.outcome.category,
            failure_note(entry)
        ),
        Subject::Claim(reference) => claim_note(reference, true),
        Subject::Input(diagnostic) => input_note(diagnostic),
    }
}

/// A claim's verdict and suggestion; `named` starts with the name (where it is not beside it).
fn claim_note(reference: &Reference, named: bool) -> String {
    let mut note = if named {
        code_html(&facts::reference_message(reference))
    } else {
        code_html(&facts::reference_verdict(reference))
    };
    if let Some(help) = facts::help(&reference.suggestions) {
        let _ = write!(note, " &mdash; {}", code_html(&help));
    }
    note
}

fn input_note(diagnostic: &Diagnostic) -> String {
    escape(&diagnostic.message)
}

/// Text with its `code spans` rendered as code, everything escaped.
fn code_html(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    // With an odd number of backticks the last one pairs with nothing and stays as it is.
    let paired = if parts.len().is_multiple_of(2) {
        parts.len() - 1
    } else {
        parts.len()
    };
    let mut out = String::with_capacity(text.len() + 16);
    for (i, part) in parts.iter().enumerate() {
        if i >= paired {
            out.push('`');
            out.push_str(&escape(part));
        } else if i % 2 == 1 {
            let _ = write!(out, "<code>{}</code>", escape(part));
        } else {
            out.push_str(&escape(part));
        }
    }
    out
}

/// Text for an element or a quoted attribute; control characters other than tab and newline
/// (escape codes in captured output) are dropped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    fn html() -> String {
        render_html(&fixture::record(), &fixture::sources())
    }

    #[test]
    fn record_text_is_escaped() {
        let html = html();
        assert!(!html.contains("<script>alert"));
        assert!(html.contains("&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("&lt;&amp;&quot;x&quot;&gt;"));
        assert!(!html.contains('\u{1b}'));
        assert_eq!(
            html.matches("<script>").count(),
            1,
            "only the report's own script"
        );
    }

    #[test]
    fn failing_line_is_highlighted() {
        let html = html();
        let line = "<span class=\"line hit\"><span class=\"ln\">12</span>from sklearn.preprocessing import Imputer\n</span>";
        // Once in the list view, once in the document view, where the reason follows it.
        assert_eq!(html.matches(line).count(), 2);
        assert!(html.contains(&format!(
            "{line}<span class=\"line why\"><span class=\"ln\" aria-hidden=\"true\">&#8627;</span>ImportError:"
        )));
        assert_eq!(
            html.matches("line hit").count(),
            2,
            "the timeout has no line"
        );
    }

    #[test]
    fn references_show_their_resolution_with_code_as_code() {
        let html = html();
        for expected in [
            "<code>Imputer</code> not found in sklearn",
            "help: did you mean <code>sklearn.impute.SimpleImputer</code>?",
            "<code>SimpleImputer</code> resolves to <code>sklearn.impute.SimpleImputer</code>",
            "<code>ImageAug</code> not checked: imgaug is not installed",
            "<code>ClassWeight</code> ignored as marked",
        ] {
            assert!(html.contains(expected), "missing {expected}");
        }
        assert!(!html.contains("`Imputer`"), "no literal backticks");
    }

    #[test]
    fn resolved_references_are_folded_and_come_last() {
        let html = html();
        let folded = html
            .find("<details class=\"resolved-claims\"><summary>1 resolved reference</summary>")
            .expect("a fold for the resolved reference");
        let resolved = html.find("<tr class=\"reference resolved\"").unwrap();
        let unresolved = html.find("<tr class=\"reference unresolved\"").unwrap();
        assert!(unresolved < folded && folded < resolved);
    }

    #[test]
    fn failed_snippets_come_first_in_the_list() {
        let html = html();
        let order: Vec<&str> = html
            .match_indices("<details class=\"snippet ")
            .map(|(i, _)| html[i + 24..].split('"').next().unwrap())
            .collect();
        assert_eq!(order, ["failed", "failed", "skipped", "passed"]);
    }

    #[test]
    fn every_finding_link_has_its_target() {
        let html = html();
        let targets: Vec<&str> = html
            .match_indices("<a href=\"#")
            .filter(|(i, _)| {
                html[..*i].ends_with("<li class=\"finding error\">")
                    || html[..*i].ends_with("<li class=\"finding warning\">")
            })
            .map(|(i, m)| html[i + m.len()..].split('"').next().unwrap())
            .collect();
        assert_eq!(targets.len(), 6);
        for target in targets {
            assert_eq!(
                html.matches(&format!(" id=\"{target}\"")).count(),
                1,
                "{target}"
            );
        }
    }

    #[test]
    fn paths_are_shortened_with_the_full_path_on_hover() {
        let html = html();
        assert!(html.contains("<span class=\"path\" title=\"docs/guide.md:12\">guide.md:12</span>"));
    }

    #[test]
    fn summary_counts_come_from_the_record() {
        let html = html();
        assert!(html.contains("<span class=\"n\" id=\"count-failed\">2</span>"));
        assert!(html.contains("<span class=\"n\" id=\"count-unresolved\">2</span>"));
        assert!(html.contains("<option value=\"timeout\">timeout</option>"));
    }

    #[test]
    fn code_spans_become_code() {
        assert_eq!(
            code_html("`a` and `<b>`"),
            "<code>a</code> and <code>&lt;b&gt;</code>"
        );
        assert_eq!(code_html("no code"), "no code");
        assert_eq!(code_html("odd ` tick"), "odd ` tick");
    }
}

//! A self-contained HTML report: the summary counts, a filter by status and category, every
//! snippet with its code (the failing line highlighted), reason, suggestion and captured
//! output, the references in the prose with their resolution, and the input problems.
//!
//! One file with inline CSS and JavaScript and no network access, so it opens from a CI
//! artifact as it is. Every piece of record text goes through [`escape`].

use std::fmt::Write;

use snipcheck_record::{Captured, Record, Reference, SnippetRecord, Status};

use crate::facts;

const STYLE: &str = include_str!("html/report.css");
const SCRIPT: &str = include_str!("html/report.js");

pub fn render_html(record: &Record) -> String {
    let s = &record.summary;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>snipcheck report: {} failed of {}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        s.failed, s.snippets
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
    out.push_str("</header>\n<main>\n");
    write_filters(&mut out, record);
    write_snippets(&mut out, record);
    write_references(&mut out, record);
    write_diagnostics(&mut out, record);
    let _ = write!(
        out,
        "</main>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n"
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

fn write_snippets(out: &mut String, record: &Record) {
    out.push_str("<section id=\"snippets\">\n<h2>Snippets</h2>\n");
    if record.snippets.is_empty() {
        out.push_str("<p class=\"empty\">No snippets were found.</p>\n");
    }
    let mut path = None;
    for entry in &record.snippets {
        if path != Some(entry.snippet.path.as_str()) {
            path = Some(entry.snippet.path.as_str());
            let _ = writeln!(
                out,
                "<h3 class=\"document\">{}</h3>",
                escape(&entry.snippet.path)
            );
        }
        write_snippet(out, entry);
    }
    out.push_str("</section>\n");
}

fn write_snippet(out: &mut String, entry: &SnippetRecord) {
    let (snippet, outcome) = (&entry.snippet, &entry.outcome);
    let status = outcome.status.to_string();
    let open = if outcome.status == Status::Failed {
        " open"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "<details class=\"snippet {status}\" data-status=\"{status}\" data-category=\"{}\" id=\"snippet-{}\"{open}>",
        outcome.category,
        escape(&snippet.id)
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
        "<code class=\"where\">{}:{}</code> <span class=\"id\">{}</span>",
        escape(&snippet.path),
        facts::focus_line(entry),
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
        let _ = writeln!(out, "<p class=\"help\">help: {}</p>", escape(&help));
    }
    write_code(out, entry);
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

fn write_code(out: &mut String, entry: &SnippetRecord) {
    let hit = facts::error_line_in_snippet(entry);
    out.push_str("<pre class=\"code\"><code>");
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
    }
    out.push_str("</code></pre>\n");
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

fn write_references(out: &mut String, record: &Record) {
    out.push_str("<section id=\"references\">\n<h2>References in the prose</h2>\n");
    if record.references.is_empty() {
        out.push_str("<p class=\"empty\">No API references were checked.</p>\n</section>\n");
        return;
    }
    out.push_str(
        "<table>\n<thead><tr><th>where</th><th>status</th><th>severity</th><th>reference</th>\
         <th>resolution</th></tr></thead>\n<tbody>\n",
    );
    for reference in &record.references {
        write_reference(out, reference);
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

fn write_reference(out: &mut String, reference: &Reference) {
    let status = facts::reference_status_name(reference.status);
    let mut resolution = escape(&facts::reference_message(reference));
    if let Some(help) = facts::help(&reference.suggestions) {
        let _ = write!(
            resolution,
            "<br><span class=\"help\">help: {}</span>",
            escape(&help)
        );
    }
    let _ = writeln!(
        out,
        "<tr class=\"reference {status}\"><td><code>{}:{}:{}</code></td><td><span class=\"badge {status}\">{status}</span></td>\
         <td>{}</td><td><code>{}</code></td><td>{resolution}</td></tr>",
        escape(&reference.path),
        reference.line,
        reference.column,
        facts::severity_name(reference.severity),
        escape(&reference.text),
    );
}

fn write_diagnostics(out: &mut String, record: &Record) {
    if record.diagnostics.is_empty() {
        return;
    }
    out.push_str("<section id=\"diagnostics\">\n<h2>Input problems</h2>\n<ul>\n");
    for diagnostic in &record.diagnostics {
        let severity = facts::severity_name(diagnostic.severity);
        let _ = writeln!(
            out,
            "<li class=\"{severity}\"><span class=\"badge {severity}\">{severity}</span> <code>{}</code> {}</li>",
            escape(&facts::diagnostic_place(diagnostic)),
            escape(&diagnostic.message)
        );
    }
    out.push_str("</ul>\n</section>\n");
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

    #[test]
    fn record_text_is_escaped() {
        let html = render_html(&fixture::record());
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
        let html = render_html(&fixture::record());
        assert!(html.contains(
            "<span class=\"line hit\"><span class=\"ln\">12</span>from sklearn.preprocessing import Imputer\n</span>"
        ));
        assert_eq!(
            html.matches("line hit").count(),
            1,
            "the timeout has no line"
        );
    }

    #[test]
    fn references_show_their_resolution() {
        let html = render_html(&fixture::record());
        for expected in [
            "`Imputer` not found in sklearn",
            "help: did you mean `sklearn.impute.SimpleImputer`?",
            "`SimpleImputer` resolves to `sklearn.impute.SimpleImputer`",
            "`ImageAug` not checked: imgaug is not installed",
            "`ClassWeight` ignored as marked",
        ] {
            assert!(html.contains(&escape(expected)), "missing {expected}");
        }
    }

    #[test]
    fn summary_counts_come_from_the_record() {
        let html = render_html(&fixture::record());
        assert!(html.contains("<span class=\"n\" id=\"count-failed\">2</span>"));
        assert!(html.contains("<span class=\"n\" id=\"count-unresolved\">2</span>"));
        assert!(html.contains("<option value=\"timeout\">timeout</option>"));
    }
}

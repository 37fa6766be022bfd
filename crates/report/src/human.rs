//! The terminal report, in the style of rustc and ruff: for each failure the document line,
//! the snippet's source with the failing line marked, the reason and a suggestion; a short
//! line for each snippet that passed; then a summary.

use std::fmt::Write;

use anstyle::{AnsiColor, Style};
use snipcheck_record::{
    BaselineReport, ChangeKind, Record, Reference, Severity, SnippetRecord, Status,
};

use crate::facts;

#[derive(Debug, Clone, Default)]
pub struct HumanOptions {
    /// Only failures, diagnostics and the summary.
    pub quiet: bool,
    /// Captured output and tracebacks too.
    pub verbose: bool,
    /// ANSI colours (the caller decides: a terminal, and no `NO_COLOR`).
    pub color: bool,
}

/// Lines of context shown around the failing line of a long snippet.
const CONTEXT: u32 = 3;

/// Styles, all empty when colour is off so the text is the same either way.
struct Palette {
    error: Style,
    warning: Style,
    note: Style,
    ok: Style,
    gutter: Style,
    strong: Style,
    help: Style,
}

impl Palette {
    fn new(color: bool) -> Self {
        let style = |c: AnsiColor| {
            if color {
                Style::new().bold().fg_color(Some(c.into()))
            } else {
                Style::new()
            }
        };
        Palette {
            error: style(AnsiColor::Red),
            warning: style(AnsiColor::Yellow),
            note: style(AnsiColor::Cyan),
            ok: style(AnsiColor::Green),
            gutter: style(AnsiColor::Blue),
            strong: if color {
                Style::new().bold()
            } else {
                Style::new()
            },
            help: style(AnsiColor::Cyan),
        }
    }

    fn severity(&self, severity: Severity) -> (Style, &'static str) {
        match severity {
            Severity::Error => (self.error, "error"),
            Severity::Warning => (self.warning, "warning"),
            Severity::Info => (self.note, "note"),
        }
    }
}

pub fn render_human(record: &Record, options: &HumanOptions) -> String {
    let p = Palette::new(options.color);
    let mut out = String::new();
    for diagnostic in &record.diagnostics {
        let (style, level) = p.severity(diagnostic.severity);
        let _ = writeln!(out, "{style}{level}{style:#}: {}", diagnostic.message);
        let _ = writeln!(
            out,
            "  {}-->{:#} {}\n",
            p.gutter,
            p.gutter,
            facts::diagnostic_place(diagnostic)
        );
    }
    for entry in &record.snippets {
        match entry.outcome.status {
            Status::Failed => write_failure(&mut out, entry, options, &p),
            _ if options.quiet => {}
            status => write_success(&mut out, entry, status, options, &p),
        }
    }
    for reference in &record.references {
        if facts::reference_is_finding(reference) || options.verbose {
            write_reference(&mut out, reference, &p);
        }
    }
    write_summary(&mut out, record, &p);
    if let Some(baseline) = &record.baseline {
        write_baseline(&mut out, baseline, &p);
    }
    out
}

/// How the run differs from the committed record, and what to do about it.
fn write_baseline(out: &mut String, baseline: &BaselineReport, p: &Palette) {
    let matters = baseline
        .changes
        .iter()
        .filter(|c| c.kind.fails_check())
        .count();
    let _ = writeln!(
        out,
        "\ncompared with the record {}: {} change{} that matter{}, {} known failure{} unchanged",
        baseline.record,
        matters,
        facts::plural(matters as u32),
        if matters == 1 { "s" } else { "" },
        baseline.known_failures,
        facts::plural(baseline.known_failures),
    );
    for change in &baseline.changes {
        let (style, label) = match change.kind {
            ChangeKind::NewFailure => (p.error, "new failure"),
            ChangeKind::ChangedReason => (p.error, "changed reason"),
            ChangeKind::NowPasses => (p.ok, "now passes"),
            ChangeKind::NewUnresolvedReference => (p.error, "new wrong claim"),
            ChangeKind::ReferenceNowResolved => (p.ok, "claim fixed"),
            ChangeKind::Removed => (p.note, "removed"),
        };
        let was = change.was.as_deref().unwrap_or("not in the record");
        let now = change.now.as_deref().unwrap_or("gone");
        let _ = writeln!(
            out,
            "  {style}{label:<18}{style:#} {}:{} {} (was {was}, now {now})",
            change.path, change.line, change.id
        );
    }
    if baseline.changes.iter().any(|c| {
        matches!(
            c.kind,
            ChangeKind::NowPasses | ChangeKind::ReferenceNowResolved | ChangeKind::Removed
        )
    }) {
        let _ = writeln!(
            out,
            "  {}help{:#}: if these changes are intended, run `snipcheck accept` to update the record",
            p.help, p.help
        );
    }
}

fn write_success(
    out: &mut String,
    entry: &SnippetRecord,
    status: Status,
    options: &HumanOptions,
    p: &Palette,
) {
    let snippet = &entry.snippet;
    // A failure a marker expected passes; say so, and why it was expected or skipped.
    let (style, label, reason) = match status {
        Status::Skipped => (
            p.warning,
            "skip",
            snippet.skip.as_ref().and_then(|s| s.reason.as_ref()),
        ),
        _ if entry.outcome.expected.is_some() => (
            p.ok,
            "xfail",
            snippet.xfail.as_ref().and_then(|x| x.reason.as_ref()),
        ),
        _ => (p.ok, "  ok", None),
    };
    let reason = reason.map(|r| format!(" ({r})")).unwrap_or_default();
    let _ = writeln!(
        out,
        "{style}{label}{style:#} {}:{} {}{reason}",
        snippet.path, snippet.line, snippet.id
    );
    if options.verbose {
        write_captured(out, entry, p);
    }
}

fn write_failure(out: &mut String, entry: &SnippetRecord, options: &HumanOptions, p: &Palette) {
    let (snippet, outcome) = (&entry.snippet, &entry.outcome);
    let reason = facts::reason(entry).unwrap_or_else(|| outcome.category.to_string());
    let (e, s, g) = (p.error, p.strong, p.gutter);
    let _ = writeln!(out, "{e}error[{}]{e:#}{s}: {reason}{s:#}", outcome.category);
    let _ = writeln!(
        out,
        "  {g}-->{g:#} {}:{} {}",
        snippet.path,
        facts::focus_line(entry),
        snippet.id
    );
    write_source(out, entry, p);
    if let Some(help) = facts::help(&outcome.suggestions) {
        let _ = writeln!(out, "   {g}={g:#} {h}help{h:#}: {help}", h = p.help);
    }
    if options.verbose {
        if let Some(traceback) = outcome.error.as_ref().and_then(|e| e.traceback.as_ref()) {
            write_block(out, "traceback", traceback, p);
        }
        write_captured(out, entry, p);
    }
    out.push('\n');
}

/// The snippet's code with document line numbers; the failing line marked with carets. Long
/// snippets show only the lines around the failure.
fn write_source(out: &mut String, entry: &SnippetRecord, p: &Palette) {
    let snippet = &entry.snippet;
    let hit = facts::error_line_in_snippet(entry);
    let lines: Vec<&str> = snippet.code.lines().collect();
    let last = snippet.line + lines.len().saturating_sub(1) as u32;
    let width = last.to_string().len();
    let (from, to) = match hit {
        Some(line) => (
            line.saturating_sub(CONTEXT).max(snippet.line),
            (line + CONTEXT).min(last),
        ),
        None => (snippet.line, last.min(snippet.line + 2 * CONTEXT)),
    };
    let g = p.gutter;
    let pad = " ".repeat(width);
    let _ = writeln!(out, "{pad} {g}|{g:#}");
    if from > snippet.line {
        let _ = writeln!(out, "{pad} {g}|{g:#} ...");
    }
    for (number, text) in (snippet.line..).zip(&lines) {
        if number < from || number > to {
            continue;
        }
        let _ = writeln!(out, "{g}{number:>width$} |{g:#} {text}");
        if Some(number) == hit {
            let indent = text.len() - text.trim_start().len();
            let marks = "^".repeat(text.trim().chars().count().max(1));
            let _ = writeln!(
                out,
                "{pad} {g}|{g:#} {}{e}{marks}{e:#}",
                &text[..indent],
                e = p.error
            );
        }
    }
    if to < last {
        let _ = writeln!(out, "{pad} {g}|{g:#} ...");
    }
    let _ = writeln!(out, "{pad} {g}|{g:#}");
}

fn write_reference(out: &mut String, reference: &Reference, p: &Palette) {
    let (style, level) = if facts::reference_is_finding(reference) {
        p.severity(reference.severity)
    } else {
        (p.note, "note")
    };
    let _ = writeln!(
        out,
        "{style}{level}[{}-reference]{style:#}: {}",
        facts::reference_status_name(reference.status),
        facts::reference_message(reference)
    );
    let _ = writeln!(
        out,
        "  {g}-->{g:#} {}:{}:{}",
        reference.path,
        reference.line,
        reference.column,
        g = p.gutter
    );
    if let Some(help) = facts::help(&reference.suggestions) {
        let _ = writeln!(
            out,
            "   {g}={g:#} {h}help{h:#}: {help}",
            g = p.gutter,
            h = p.help
        );
    }
    out.push('\n');
}

fn write_captured(out: &mut String, entry: &SnippetRecord, p: &Palette) {
    for (title, captured) in [
        ("stdout", &entry.outcome.stdout),
        ("stderr", &entry.outcome.stderr),
    ] {
        write_block(out, title, &captured.text, p);
        if captured.truncated_bytes > 0 {
            let _ = writeln!(
                out,
                "     ({} more bytes of {title} not kept)",
                captured.truncated_bytes
            );
        }
    }
}

fn write_block(out: &mut String, title: &str, text: &str, p: &Palette) {
    if text.trim().is_empty() {
        return;
    }
    let _ = writeln!(out, "   {g}={g:#} {title}:", g = p.gutter);
    for line in text.lines() {
        // Captured output may carry its own escape codes; never let it restyle the terminal.
        let line: String = line
            .chars()
            .filter(|c| !c.is_control() || *c == '\t')
            .collect();
        let _ = writeln!(out, "     {g}|{g:#} {line}", g = p.gutter);
    }
}

fn write_summary(out: &mut String, record: &Record, p: &Palette) {
    let s = &record.summary;
    let style = if s.failed > 0 { p.error } else { p.ok };
    let _ = write!(out, "{style}{}{style:#}", facts::summary_sentence(record));
    let by_category = facts::failures_by_category(record);
    if !by_category.is_empty() {
        let parts: Vec<String> = by_category
            .iter()
            .map(|(c, n)| format!("{n} {c}"))
            .collect();
        let _ = write!(out, " ({})", parts.join(", "));
    }
    out.push('\n');
    if s.references > 0 {
        let _ = writeln!(
            out,
            "{} reference{} in the prose: {} unresolved",
            s.references,
            facts::plural(s.references),
            s.unresolved_references
        );
    }
    if s.errors > 0 {
        let _ = writeln!(
            out,
            "{} input error{} (see above)",
            s.errors,
            facts::plural(s.errors)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    fn plain(options: HumanOptions) -> String {
        render_human(&fixture::record(), &options)
    }

    #[test]
    fn failure_marks_the_failing_line_and_suggests() {
        insta::assert_snapshot!(plain(HumanOptions::default()));
    }

    #[test]
    fn verbose_shows_traceback_and_output_without_escape_codes() {
        let text = plain(HumanOptions {
            verbose: true,
            ..Default::default()
        });
        assert!(text.contains("Traceback (most recent call last):"));
        assert!(text.contains("total is 6"));
        assert!(text.contains("10 more bytes of stderr not kept"));
        assert!(
            !text.contains('\u{1b}'),
            "captured escape codes are dropped"
        );
        assert!(text.contains("note[resolved-reference]"));
    }

    #[test]
    fn quiet_leaves_out_passes() {
        let text = plain(HumanOptions {
            quiet: true,
            ..Default::default()
        });
        assert!(!text.contains("ok docs/guide.md:8"));
        assert!(text.contains("error[missing-name]"));
        assert!(!text.contains("note[resolved-reference]"));
    }

    #[test]
    fn colour_only_when_asked() {
        let coloured = plain(HumanOptions {
            color: true,
            ..Default::default()
        });
        assert!(coloured.contains("\u{1b}["));
        assert!(!plain(HumanOptions::default()).contains('\u{1b}'));
    }

    #[test]
    fn long_snippet_shows_the_lines_around_the_failure() {
        let mut record = fixture::record();
        let entry = &mut record.snippets[1];
        entry.snippet.code = (0..20).map(|i| format!("x{i} = {i}\n")).collect();
        entry.snippet.end_line = entry.snippet.line + 19;
        entry.outcome.error.as_mut().unwrap().line = Some(entry.snippet.line + 10);
        let text = render_human(&record, &HumanOptions::default());
        assert!(text.contains("x10 = 10\n   | ^^^^^^^^"), "{text}");
        assert!(!text.contains("x2 = 2"));
        assert!(!text.contains("x19 = 19"));
    }
}

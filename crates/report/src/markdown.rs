//! A Markdown summary for `$GITHUB_STEP_SUMMARY` or a pull-request comment: the findings
//! first, grouped by document, each with the sentence or code line it is in and its
//! suggestion; the passes only counted. It stops, saying how many findings it left out,
//! before GitHub's limit on a comment's size.

use std::fmt::Write;

use snipcheck_record::{Record, Severity};

use crate::facts;
use crate::findings::{findings, tally, Finding, Subject};
use crate::source::{self, Source, Texts};

/// GitHub refuses comments over 65,536 characters; a byte is at most a character, and the
/// margin leaves room for whatever a workflow adds around the summary.
const SIZE_LIMIT: usize = 60_000;
/// Room kept for the closing line that counts what was left out.
const TAIL_ROOM: usize = 400;
/// Characters of a claim's sentence kept on either side of its name.
const QUOTE_ROOM: usize = 100;
/// Longest reason or code line quoted.
const LINE_ROOM: usize = 300;

pub fn render_markdown(record: &Record, sources: &[Source]) -> String {
    let s = &record.summary;
    let list = findings(record);
    let texts = Texts::new(sources);
    let mut out = String::new();
    let verdict = if s.failed == 0 && !record.has_reference_errors() && s.errors == 0 {
        "all examples work"
    } else {
        "some examples fail"
    };
    let _ = writeln!(out, "## snipcheck: {verdict}\n");
    let resolved = record
        .references
        .iter()
        .filter(|r| r.status == snipcheck_record::ReferenceStatus::Resolved)
        .count() as u32;
    let _ = write!(
        out,
        "**{} finding{}**",
        list.len(),
        facts::plural(list.len() as u32)
    );
    if !list.is_empty() {
        let _ = write!(out, " ({})", tally(&list));
    }
    let _ = writeln!(
        out,
        ". {}; {resolved} of {} reference{} in the prose resolved.\n",
        facts::summary_sentence(record),
        s.references,
        facts::plural(s.references)
    );
    if let Some(by_category) = categories(record) {
        let _ = writeln!(out, "Failures by category: {by_category}.\n");
    }

    let mut shown = 0;
    for (path, group) in by_document(&list) {
        let heading = format!("### {}\n\n", code_span(path));
        let mut items = Vec::new();
        for finding in group {
            items.push(item(finding, &texts));
        }
        let mut first = true;
        for item in items {
            let header = if first { heading.len() } else { 0 };
            if out.len() + header + item.len() + TAIL_ROOM > SIZE_LIMIT {
                left_out(&mut out, &list[shown..]);
                return out;
            }
            if first {
                out.push_str(&heading);
                first = false;
            }
            out.push_str(&item);
            shown += 1;
        }
        out.push('\n');
    }
    out
}

/// "3 `missing-name`, 1 `timeout`", or nothing when every example passed.
fn categories(record: &Record) -> Option<String> {
    let by_category = facts::failures_by_category(record);
    if by_category.is_empty() {
        return None;
    }
    let parts: Vec<String> = by_category
        .iter()
        .map(|(c, n)| format!("{n} `{c}`"))
        .collect();
    Some(parts.join(", "))
}

/// The findings per document, documents in the order of their first finding.
fn by_document<'a, 'r>(list: &'a [Finding<'r>]) -> Vec<(&'r str, Vec<&'a Finding<'r>>)> {
    let mut groups: Vec<(&str, Vec<&Finding>)> = Vec::new();
    for finding in list {
        match groups.iter_mut().find(|(path, _)| *path == finding.path()) {
            Some((_, group)) => group.push(finding),
            None => groups.push((finding.path(), vec![finding])),
        }
    }
    groups
}

/// One finding as a list item: severity, line, what is wrong and the suggestion, then the
/// sentence or code line it is in as a quote.
fn item(finding: &Finding, texts: &Texts) -> String {
    let mut out = format!("- **{}**", facts::severity_name(finding.severity));
    if let Some(line) = finding.line() {
        let _ = write!(out, " line {line}");
    }
    match finding.subject {
        Subject::Example(entry) => {
            let _ = write!(
                out,
                ": example {} fails with `{}`: {}",
                code_span(&entry.snippet.id),
                entry.outcome.category,
                code_span(&cut(&facts::reason(entry).unwrap_or_default(), LINE_ROOM))
            );
            if let Some(help) = facts::help(&entry.outcome.suggestions) {
                let _ = write!(out, "; {}", with_code(&help));
            }
            out.push('\n');
            if let Some(line) = facts::failing_line(entry) {
                let _ = writeln!(out, "  > {}", code_span(&cut(line.trim(), LINE_ROOM)));
            }
        }
        Subject::Claim(reference) => {
            let _ = write!(out, ": {}", with_code(&facts::reference_message(reference)));
            if let Some(help) = facts::help(&reference.suggestions) {
                let _ = write!(out, "; {}", with_code(&help));
            }
            out.push('\n');
            if let Some(quote) = source::claim_quote(texts, reference, QUOTE_ROOM) {
                let _ = writeln!(
                    out,
                    "  > {}{}**{}**{}{}",
                    if quote.cut_before { "…" } else { "" },
                    inline(quote.before),
                    inline(quote.name),
                    inline(quote.after),
                    if quote.cut_after { "…" } else { "" }
                );
            }
        }
        Subject::Input(diagnostic) => {
            let _ = writeln!(out, ": {}", inline(&cut(&diagnostic.message, LINE_ROOM)));
        }
    }
    out
}

/// The closing line when the summary is full: how many findings it left out, of which kind.
fn left_out(out: &mut String, rest: &[Finding]) {
    let errors = rest
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let _ = writeln!(
        out,
        "\n_{} more finding{} not shown ({} error{}, {} other{}): the summary stops before \
         GitHub's comment size limit. The HTML report and the JSON record list them all._",
        rest.len(),
        facts::plural(rest.len() as u32),
        errors,
        facts::plural(errors as u32),
        rest.len() - errors,
        facts::plural((rest.len() - errors) as u32),
    );
}

/// At most `room` characters, an ellipsis saying where it was cut.
fn cut(text: &str, room: usize) -> String {
    match text.char_indices().nth(room) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// Text whose `code spans` stay code and whose other characters are taken literally.
fn with_code(text: &str) -> String {
    text.split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                code_span(part)
            } else {
                inline(part)
            }
        })
        .collect()
}

/// One line of literal text: line breaks become spaces, markup characters are escaped.
fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '&' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A code span on one line. A code span cannot escape backticks, so it is fenced with more
/// backticks than the text holds in a row.
fn code_span(text: &str) -> String {
    let text: String = text
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .filter(|c| !c.is_control())
        .collect();
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    // A space keeps a backtick at either end from joining the fence; readers strip it.
    if text.starts_with('`') || text.ends_with('`') {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;
    use snipcheck_record::{
        Category, Outcome, Reference, ReferenceKind, ReferenceStatus, Snippet, SnippetError,
        SnippetRecord,
    };

    #[test]
    fn findings_first_by_document() {
        insta::assert_snapshot!(render_markdown(&fixture::record(), &fixture::sources()));
    }

    #[test]
    fn literal_text_cannot_become_markup() {
        assert_eq!(inline("a|b\nc *d*"), "a\\|b c \\*d\\*");
        assert_eq!(code_span("x `y` | z"), "``x `y` | z``");
        assert_eq!(code_span("`y`"), "`` `y` ``");
        assert_eq!(
            with_code("did you mean `a_b`? [x]"),
            "did you mean `a_b`? \\[x\\]"
        );
        assert_eq!(cut("abcdef", 3), "abc…");
        assert_eq!(cut("abc", 3), "abc");
    }

    /// 1,000 findings over 50 documents, each with a long message and its sentence.
    fn big_record() -> (Record, Vec<(String, String)>) {
        let mut snippets = Vec::new();
        let mut references = Vec::new();
        let mut texts = Vec::new();
        for doc in 0..50 {
            let path = format!("docs/section-{doc}/page.md");
            let mut text = String::new();
            for n in 0..10 {
                let _ = writeln!(
                    text,
                    "Paragraph {n}: scikit-learn provides an Imputer{n} class that imputes the values that are missing from a data set."
                );
                references.push(Reference {
                    id: format!("imputer-{n}"),
                    path: path.clone(),
                    line: n + 1,
                    column: 39,
                    text: format!("Imputer{n}"),
                    library: Some("sklearn".into()),
                    name: format!("Imputer{n}"),
                    kind: ReferenceKind::Class,
                    status: ReferenceStatus::Unresolved,
                    severity: if n % 2 == 0 {
                        Severity::Error
                    } else {
                        Severity::Warning
                    },
                    resolved: None,
                    suggestions: vec!["sklearn.impute.SimpleImputer".into()],
                    reason: None,
                });
            }
            for n in 0..10u32 {
                let code = format!("from sklearn.preprocessing import Imputer{n}\n");
                snippets.push(SnippetRecord {
                    snippet: Snippet {
                        id: format!("example-{n}"),
                        path: path.clone(),
                        line: 20 + n * 3,
                        end_line: 20 + n * 3,
                        code,
                        ..Snippet::default()
                    },
                    outcome: Outcome::failed(
                        Category::MissingName,
                        SnippetError {
                            kind: "ImportError".into(),
                            message: format!(
                                "cannot import name 'Imputer{n}' from 'sklearn.preprocessing' ({})",
                                "/a/long/path/to/site-packages/sklearn/preprocessing/__init__.py "
                                    .repeat(4)
                            ),
                            line: Some(20 + n * 3),
                            traceback: None,
                        },
                        1.0,
                    ),
                });
            }
            texts.push((path, text));
        }
        let record = Record::new(50, None, snippets, references, Vec::new());
        (record, texts)
    }

    #[test]
    fn a_thousand_findings_stay_under_the_comment_limit() {
        let (record, texts) = big_record();
        let sources: Vec<Source> = texts
            .iter()
            .map(|(path, text)| Source {
                path,
                text,
                format: crate::SourceFormat::Markdown,
            })
            .collect();
        assert_eq!(findings(&record).len(), 1000);
        let summary = render_markdown(&record, &sources);
        assert!(
            summary.chars().count() < 65_536,
            "{} characters",
            summary.chars().count()
        );
        let shown = summary.lines().filter(|l| l.starts_with("- **")).count();
        assert!(shown > 100, "only {shown} findings shown");
        assert!(
            summary.contains(&format!("_{} more findings not shown (", 1000 - shown)),
            "{}",
            &summary[summary.len() - 600..]
        );
        // The sentences are quoted, the name in bold.
        assert!(summary.contains("  > Paragraph 0: scikit-learn provides an **Imputer0** class"));
    }
}

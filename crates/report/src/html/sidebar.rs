//! The findings list the page opens on: errors first, each with its place, what is wrong,
//! and the sentence or code line it is in, linked to its mark in the document view.

use std::fmt::Write;

use crate::facts;
use crate::findings::{self, Subject};
use crate::source;

use super::{escape, finding_message, finding_target, Page};

/// Characters of a claim's sentence kept on either side of its name.
const QUOTE_ROOM: usize = 70;

pub(super) fn write(out: &mut String, page: &Page) {
    let total = page.findings.len();
    out.push_str("<nav class=\"findings\" id=\"findings\" aria-labelledby=\"findings-title\">\n");
    let _ = writeln!(
        out,
        "<h2 id=\"findings-title\">{total} finding{}</h2>",
        facts::plural(total as u32)
    );
    if total == 0 {
        out.push_str(
            "<p class=\"empty\">Every example passed and every checked claim resolved.</p>\n</nav>\n",
        );
        return;
    }
    let _ = writeln!(
        out,
        "<p class=\"tally\">{}</p>\n<p class=\"keys\"><kbd>j</kbd> next, <kbd>k</kbd> previous finding</p>\n<ol>",
        escape(&findings::tally(&page.findings))
    );
    for finding in &page.findings {
        let severity = facts::severity_name(finding.severity);
        let _ = write!(
            out,
            "<li class=\"finding {severity}\"><a href=\"#{}\" data-goes-to=\"{}\"><span class=\"badge {severity}\">{severity}</span> {}\
             <span class=\"what\">{}</span>",
            finding_target(page, finding),
            finding.anchor(),
            page.path(finding.path(), finding.line()),
            finding_message(finding)
        );
        write_quote(out, page, &finding.subject);
        out.push_str("</a></li>\n");
    }
    out.push_str("</ol>\n</nav>\n");
}

/// The sentence of a claim with its name marked, or the failing line of an example.
fn write_quote(out: &mut String, page: &Page, subject: &Subject) {
    match subject {
        Subject::Claim(reference) => {
            if let Some(quote) = source::claim_quote(&page.texts, reference, QUOTE_ROOM) {
                let _ = write!(
                    out,
                    "<q class=\"quote\">{}{}<mark>{}</mark>{}{}</q>",
                    if quote.cut_before { "&hellip;" } else { "" },
                    escape(quote.before),
                    escape(quote.name),
                    escape(quote.after),
                    if quote.cut_after { "&hellip;" } else { "" },
                );
            }
        }
        Subject::Example(entry) => {
            if let Some(line) = facts::failing_line(entry) {
                let _ = write!(out, "<code class=\"quote\">{}</code>", escape(line.trim()));
            }
        }
        Subject::Input(_) => {}
    }
}

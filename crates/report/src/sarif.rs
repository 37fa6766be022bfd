//! SARIF 2.1.0 for code-scanning dashboards: a rule per failure category, a result per
//! failed snippet, unresolved reference and input problem, located at the document line.

use serde_json::{json, Value};
use snipcheck_record::{Category, Record, Severity, Status};

use crate::facts;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const UNRESOLVED_REFERENCE: &str = "unresolved-reference";
const INPUT_ERROR: &str = "input-error";

pub fn render_sarif(record: &Record) -> String {
    let mut rules: Vec<Value> = Category::ALL
        .iter()
        .filter(|c| c.status() == Status::Failed)
        .map(|c| {
            rule(
                c.as_str(),
                &format!("A documented example ends with `{c}`."),
            )
        })
        .collect();
    rules.push(rule(
        UNRESOLVED_REFERENCE,
        "An API name in the prose does not exist in the installed library.",
    ));
    rules.push(rule(
        INPUT_ERROR,
        "A document could not be read or parsed as given.",
    ));

    let mut results = Vec::new();
    for entry in &record.snippets {
        if entry.outcome.status != Status::Failed {
            continue;
        }
        let mut text = facts::reason(entry).unwrap_or_default();
        if let Some(help) = facts::help(&entry.outcome.suggestions) {
            text = format!("{text} ({help})");
        }
        results.push(json!({
            "ruleId": entry.outcome.category.as_str(),
            "level": "error",
            "message": { "text": text },
            "locations": [location(&entry.snippet.path, Some(facts::focus_line(entry)), None)],
            "partialFingerprints": { "snippetId": entry.snippet.id },
        }));
    }
    for reference in record
        .references
        .iter()
        .filter(|r| facts::reference_is_finding(r))
    {
        let mut text = facts::reference_message(reference);
        if let Some(help) = facts::help(&reference.suggestions) {
            text = format!("{text} ({help})");
        }
        results.push(json!({
            "ruleId": UNRESOLVED_REFERENCE,
            "level": level(reference.severity),
            "message": { "text": text },
            "locations": [location(&reference.path, Some(reference.line), Some(reference.column))],
        }));
    }
    for diagnostic in &record.diagnostics {
        results.push(json!({
            "ruleId": INPUT_ERROR,
            "level": level(diagnostic.severity),
            "message": { "text": diagnostic.message },
            "locations": [location(&diagnostic.path, diagnostic.line, None)],
        }));
    }

    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": record.tool.name,
                "version": record.tool.version,
                "rules": rules,
            }},
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&log).expect("SARIF is plain JSON");
    text.push('\n');
    text
}

fn rule(id: &str, description: &str) -> Value {
    json!({
        "id": id,
        "shortDescription": { "text": description },
    })
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn location(path: &str, line: Option<u32>, column: Option<u32>) -> Value {
    let mut physical = json!({ "artifactLocation": { "uri": uri(path) } });
    if let Some(line) = line {
        // SARIF lines and columns start at 1; anything else would be rejected by a reader.
        let mut region = json!({ "startLine": line.max(1) });
        if let Some(column) = column {
            region["startColumn"] = json!(column.max(1));
        }
        physical["region"] = region;
    }
    json!({ "physicalLocation": physical })
}

/// A relative URI reference for a path: unreserved characters and `/` kept, the rest
/// percent-encoded. Absolute paths become `file://` URIs.
fn uri(path: &str) -> String {
    let mut out = String::new();
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    #[test]
    fn results_for_failures_references_and_input() {
        insta::assert_snapshot!(render_sarif(&fixture::record()));
    }

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri("docs/a b#c.md"), "docs/a%20b%23c.md");
        assert_eq!(uri("/abs/x.md"), "file:///abs/x.md");
        assert_eq!(uri("docs/é.md"), "docs/%C3%A9.md");
    }
}

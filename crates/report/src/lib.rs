//! Renders a snipcheck record for people and machines.
//!
//! Every format reads the same [`Record`]: none computes verdicts of its own. The few
//! phrasings several formats share (a failure's reason, a reference's message) live in
//! [`facts`], so the terminal, the annotations and the HTML page say the same thing. The
//! HTML and Markdown reports also show the documents' own words (the sentence a claim is
//! in): the caller passes the text it checked as [`Source`]s, so what they quote is what
//! was checked, and a report never reads a file.

pub mod facts;
mod findings;
mod github;
mod html;
mod human;
mod junit;
mod markdown;
mod sarif;
mod source;

pub use github::render_github;
pub use html::render_html;
pub use human::{render_human, HumanOptions};
pub use junit::render_junit;
pub use markdown::render_markdown;
pub use sarif::render_sarif;
use snipcheck_record::Record;
pub use source::{Source, SourceFormat};

/// The JSON Schema of the record that `--format json` writes (and `--format yaml`, as YAML).
pub const RECORD_SCHEMA: &str = include_str!("../record.schema.json");

/// Output formats for `--format` and `--output-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Yaml,
    Junit,
    Github,
    Markdown,
    Sarif,
    Html,
}

impl Format {
    pub const ALL: [Format; 8] = [
        Format::Human,
        Format::Json,
        Format::Yaml,
        Format::Junit,
        Format::Github,
        Format::Markdown,
        Format::Sarif,
        Format::Html,
    ];
    pub const NAMES: [&'static str; 8] = [
        "human", "json", "yaml", "junit", "github", "markdown", "sarif", "html",
    ];

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    pub fn from_name(name: &str) -> Option<Format> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// Renders the record in a format; `sources` are the checked documents' text, which the
/// HTML and Markdown reports quote (a document missing from them is just not shown).
pub fn render(record: &Record, sources: &[Source], format: Format, human: &HumanOptions) -> String {
    match format {
        Format::Human => render_human(record, human),
        Format::Json => render_json(record),
        Format::Yaml => render_yaml(record),
        Format::Junit => render_junit(record),
        Format::Github => render_github(record),
        Format::Markdown => render_markdown(record, sources),
        Format::Sarif => render_sarif(record),
        Format::Html => render_html(record, sources),
    }
}

pub fn render_json(record: &Record) -> String {
    let mut text = serde_json::to_string_pretty(record).expect("a record always serializes");
    text.push('\n');
    text
}

pub fn render_yaml(record: &Record) -> String {
    serde_yaml::to_string(record).expect("a record always serializes")
}

#[cfg(test)]
pub(crate) mod fixture;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for format in Format::ALL {
            assert_eq!(Format::from_name(format.name()), Some(format));
        }
        assert_eq!(Format::from_name("xml"), None);
    }

    fn schema_errors(instance: &serde_json::Value) -> Vec<String> {
        let schema: serde_json::Value = serde_json::from_str(RECORD_SCHEMA).unwrap();
        let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
        validator
            .iter_errors(instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }

    #[test]
    fn record_schema_matches_the_version() {
        let schema: serde_json::Value = serde_json::from_str(RECORD_SCHEMA).unwrap();
        assert_eq!(
            schema["properties"]["schema_version"]["const"],
            snipcheck_record::SCHEMA_VERSION
        );
    }

    /// The runner writes no references yet: the fixture has them in every state.
    #[test]
    fn a_record_with_everything_matches_the_schema() {
        let record: serde_json::Value =
            serde_json::from_str(&render_json(&fixture::record())).unwrap();
        assert_eq!(schema_errors(&record), Vec::<String>::new());
    }

    #[test]
    fn the_schema_rejects_what_the_record_never_holds() {
        let mut record = serde_json::to_value(fixture::record()).unwrap();
        record["snippets"][0]["status"] = "flaky".into();
        record["references"][0]["line"] = 0.into();
        record["summary"]["extra"] = 1.into();
        assert_eq!(
            schema_errors(&record).len(),
            3,
            "{:?}",
            schema_errors(&record)
        );
    }
}

//! Renders a snipcheck record for people and machines.
//!
//! Every format reads the same [`Record`]: none computes verdicts of its own.

mod human;

pub use human::{render_human, HumanOptions};
use snipcheck_record::Record;

/// Output formats for `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Yaml,
}

impl Format {
    pub const NAMES: [&'static str; 3] = ["human", "json", "yaml"];

    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "human" => Some(Format::Human),
            "json" => Some(Format::Json),
            "yaml" => Some(Format::Yaml),
            _ => None,
        }
    }
}

/// Renders the record in a format.
pub fn render(record: &Record, format: Format, human: &HumanOptions) -> String {
    match format {
        Format::Human => render_human(record, human),
        Format::Json => render_json(record),
        Format::Yaml => render_yaml(record),
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

//! Stable snippet ids.
//!
//! An id is derived from the nearest heading before the snippet (its words, without any
//! "Q3." style numbering) plus an ordinal under that heading, so it does not change when
//! other sections are added, removed or renumbered. That lets records from two runs be
//! compared snippet by snippet.

use std::collections::HashMap;

use snipcheck_record::{ExpectedOutput, Snippet, SnippetKind};

use crate::markers::Markers;

/// Longest base an id gets from its heading, in characters.
const MAX_SLUG: usize = 64;
/// Words that carry no meaning in a heading ("How do you evaluate the performance of a
/// regression model?"): dropping them keeps the words that tell sections apart within
/// the length limit. Kept when a heading would have no other word.
const FILLER_WORDS: &[&str] = &[
    "a", "an", "and", "are", "can", "do", "does", "for", "how", "i", "in", "is", "it", "of", "on",
    "or", "the", "to", "using", "what", "when", "which", "why", "with", "you", "your",
];
/// Base for snippets that come before any heading.
const NO_HEADING: &str = "snippet";

/// What the format scanners report, in document order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item {
    /// A heading (Markdown) or a heading-like line (plain text), as written.
    Heading(String),
    /// A code example: 1-based inclusive line span and the code as it will run.
    Code {
        line: u32,
        end_line: u32,
        code: String,
        meta: Box<Meta>,
    },
}

/// How a code example runs, beyond its code: copied into the [`Snippet`] as is.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Meta {
    pub kind: SnippetKind,
    pub session: Option<String>,
    pub cell: Option<u32>,
    pub expected_output: Option<ExpectedOutput>,
    pub module: Option<String>,
    pub object: Option<String>,
    pub skip_if: Option<String>,
    pub options: Vec<String>,
    /// Markers written with the block (a comment before it, its fence's info string).
    pub markers: Box<Markers>,
    /// The document line of each line of the code, for the formats where they need not be
    /// the lines from the snippet's first line on (HTML's `&#10;` and `<br>`, a notebook
    /// cell's source in one string); empty for the others. Not copied into the snippet.
    pub lines: Vec<u32>,
}

impl Item {
    /// A plain Python example.
    pub(crate) fn code(line: u32, end_line: u32, code: String) -> Item {
        Item::Code {
            line,
            end_line,
            code,
            meta: Box::default(),
        }
    }
}

#[cfg(test)]
impl Item {
    /// The examples among scanned items, for tests: `(line, end_line, code, meta)`.
    pub(crate) fn examples(items: Vec<Item>) -> Vec<(u32, u32, String, Meta)> {
        items
            .into_iter()
            .filter_map(|i| match i {
                Item::Code {
                    line,
                    end_line,
                    code,
                    meta,
                } => Some((line, end_line, code, *meta)),
                Item::Heading(_) => None,
            })
            .collect()
    }

    /// The markers of each example among scanned items, for tests.
    pub(crate) fn markers(items: Vec<Item>) -> Vec<Markers> {
        Item::examples(items)
            .into_iter()
            .map(|(.., meta)| *meta.markers)
            .collect()
    }

    /// The examples among scanned items, for tests: `(line, end_line, code)`.
    pub(crate) fn codes(items: Vec<Item>) -> Vec<(u32, u32, String)> {
        Item::examples(items)
            .into_iter()
            .map(|(line, end_line, code, _)| (line, end_line, code))
            .collect()
    }
}

/// Turns scanned items into snippets with ids unique within the document.
pub(crate) fn assign(path: &str, items: Vec<Item>) -> Vec<Snippet> {
    let mut snippets = Vec::new();
    let mut section: Option<String> = None;
    let mut base = NO_HEADING.to_string();
    let mut ordinal = 0u32;
    let mut seen: HashMap<String, u32> = HashMap::new();
    for item in items {
        match item {
            Item::Heading(text) => {
                base = slug(&text);
                section = Some(text);
                ordinal = 0;
            }
            Item::Code {
                line,
                end_line,
                code,
                meta,
            } => {
                ordinal += 1;
                let mut id = if ordinal == 1 {
                    base.clone()
                } else {
                    format!("{base}-{ordinal}")
                };
                let count = seen.entry(id.clone()).or_insert(0);
                *count += 1;
                if *count > 1 {
                    id = format!("{id}~{count}");
                }
                let mut snippet = Snippet {
                    id,
                    path: path.to_string(),
                    line,
                    end_line,
                    code,
                    section: section.clone(),
                    kind: meta.kind,
                    session: meta.session,
                    cell: meta.cell,
                    expected_output: meta.expected_output,
                    module: meta.module,
                    object: meta.object,
                    skip_if: meta.skip_if,
                    options: meta.options,
                    ..Snippet::default()
                };
                (*meta.markers).apply(&mut snippet);
                snippets.push(snippet);
            }
        }
    }
    snippets
}

/// The id base for a heading: its words after any enumeration, lowercase ASCII
/// alphanumerics joined by `-`, cut at a word boundary to [`MAX_SLUG`] characters.
pub(crate) fn slug(heading: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    for c in strip_enumeration(heading).chars() {
        if c.is_ascii_alphanumeric() {
            word.push(c.to_ascii_lowercase());
        } else if c == '\'' || c == '\u{2019}' || !c.is_ascii() && c.is_alphanumeric() {
            // Apostrophes and non-ASCII letters are dropped inside a word ("model's" ->
            // "models"), not treated as word breaks.
        } else if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    if words.iter().any(|w| !FILLER_WORDS.contains(&w.as_str())) {
        words.retain(|w| !FILLER_WORDS.contains(&w.as_str()));
    }
    let mut out = String::new();
    for w in words {
        let extra = if out.is_empty() { w.len() } else { w.len() + 1 };
        if out.len() + extra > MAX_SLUG {
            if out.is_empty() {
                // One very long word: cut it (ASCII, so any byte is a boundary).
                out = w[..MAX_SLUG].to_string();
            }
            break;
        }
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&w);
    }
    if out.is_empty() {
        NO_HEADING.to_string()
    } else {
        out
    }
}

/// Words that introduce a number in a heading ("Q3.", "Step 2:", "Question 12:").
const ENUM_WORDS: &[&str] = &[
    "q", "question", "step", "exercise", "problem", "task", "part", "example", "chapter",
    "section", "lesson",
];

/// Removes a leading enumeration so renumbering headings does not change ids. Returns the
/// heading unchanged when nothing would be left.
pub(crate) fn strip_enumeration(heading: &str) -> &str {
    let h = heading.trim_start();
    let rest = strip_number_prefix(h).trim_start();
    if rest.chars().any(|c| c.is_alphanumeric()) {
        rest
    } else {
        heading
    }
}

fn strip_number_prefix(h: &str) -> &str {
    // Optional enumeration word, e.g. "Q" in "Q3." or "Step" in "Step 2:".
    let alpha_len = h
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(h.len());
    let word = h[..alpha_len].to_ascii_lowercase();
    let (has_word, after_word) = if alpha_len > 0 && ENUM_WORDS.contains(&word.as_str()) {
        (true, h[alpha_len..].trim_start_matches([' ', '\t', '#']))
    } else {
        (false, h.trim_start_matches('#'))
    };
    // The number: digits, possibly dotted ("1.2").
    let bytes = after_word.as_bytes();
    let mut i = 0;
    let mut saw_digit = false;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            saw_digit = true;
            i += 1;
        } else if bytes[i] == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i += 1;
        } else {
            break;
        }
    }
    if !saw_digit {
        return h;
    }
    let after_num = &after_word[i..];
    // A delimiter, required when there is no enumeration word ("3 Ways" keeps its 3).
    let delim = after_num
        .strip_prefix(['.', ')', ':', '-', '\u{2013}', '\u{2014}'])
        .map(|r| r.strip_prefix(['.', ')', ':']).unwrap_or(r));
    match delim {
        Some(rest) if rest.is_empty() || rest.starts_with(char::is_whitespace) => rest,
        None if has_word && after_num.starts_with(char::is_whitespace) => after_num,
        _ => h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enumerations_are_stripped() {
        for (h, want) in [
            ("Q3. How do you do it?", "How do you do it?"),
            ("3. Install", "Install"),
            ("3) Install", "Install"),
            ("1.2 Install", "1.2 Install"),
            ("1.2. Install", "Install"),
            ("Step 2: Train", "Train"),
            ("step 2 Train", "Train"),
            ("Question 12: Why?", "Why?"),
            ("Q12 Why", "Why"),
            ("3 Ways to win", "3 Ways to win"),
            ("3D rendering", "3D rendering"),
            ("Quick start", "Quick start"),
            ("Step 2:", "Step 2:"),
            ("2024", "2024"),
        ] {
            assert_eq!(strip_enumeration(h), want, "{h}");
        }
    }

    #[test]
    fn slugs() {
        assert_eq!(
            slug("Q3. How do you implement data augmentation in a computer vision task?"),
            "implement-data-augmentation-computer-vision-task"
        );
        assert_eq!(slug("Getting Started"), "getting-started");
        assert_eq!(slug("The model’s API (v2.0)"), "models-api-v2-0");
        // A heading of filler words only keeps them.
        assert_eq!(slug("How do you do it?"), "how-do-you-do-it");
        assert_eq!(slug("¿Qué?"), "qu");
        assert_eq!(slug("—"), "snippet");
        assert_eq!(slug("日本語"), "snippet");
        assert_eq!(slug(&"a".repeat(100)).len(), MAX_SLUG);
        assert!(slug(&"word ".repeat(40)).len() <= MAX_SLUG);
    }

    fn code(line: u32) -> Item {
        Item::code(line, line, "x = 1\n".into())
    }

    #[test]
    fn ordinals_and_duplicates() {
        let items = vec![
            code(1),
            code(2),
            Item::Heading("Usage".into()),
            code(4),
            code(5),
            code(6),
            Item::Heading("2. Usage".into()),
            code(8),
            Item::Heading("Usage 2".into()),
            code(10),
        ];
        let ids: Vec<String> = assign("a.md", items).into_iter().map(|s| s.id).collect();
        assert_eq!(
            ids,
            [
                "snippet",
                "snippet-2",
                "usage",
                "usage-2",
                "usage-3",
                "usage~2",
                "usage-2~2"
            ]
        );
    }

    #[test]
    fn section_is_heading_as_written() {
        let s = assign(
            "a.txt",
            vec![code(1), Item::Heading("Q1. Why?".into()), code(3)],
        );
        assert_eq!(s[0].section, None);
        assert_eq!(s[1].section.as_deref(), Some("Q1. Why?"));
        assert_eq!(s[1].id, "why");
    }
}

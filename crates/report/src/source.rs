//! The text of the checked documents, as the run read them. The record holds places (a
//! line, a character column); the views that show a document or quote its sentences read
//! the words at those places here.

use std::collections::HashMap;

use snipcheck_record::Reference;

/// One checked document.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// The path as the record spells it.
    pub path: &'a str,
    pub text: &'a str,
    pub format: SourceFormat,
}

/// How a document is written, which decides how the document view renders it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    Text,
    Markdown,
    Rst,
    Html,
    Notebook,
    Python,
}

/// The document of a path, if the caller gave its text.
pub fn find<'a>(sources: &'a [Source<'a>], path: &str) -> Option<&'a Source<'a>> {
    sources.iter().find(|s| s.path == path)
}

/// Every document split into lines once, for quoting many places in them.
pub struct Texts<'a> {
    documents: HashMap<&'a str, Lines<'a>>,
}

impl<'a> Texts<'a> {
    pub fn new(sources: &[Source<'a>]) -> Self {
        Texts {
            documents: sources
                .iter()
                .map(|s| (s.path, Lines::new(s.text)))
                .collect(),
        }
    }

    pub fn lines(&self, path: &str) -> Option<&Lines<'a>> {
        self.documents.get(path)
    }
}

/// A document split into lines, addressed the way the record addresses it (1-based lines,
/// 1-based character columns).
pub struct Lines<'a> {
    text: &'a str,
    /// Byte offset of each line's start.
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    pub fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .filter(|&i| i < text.len() || i == 0)
            .collect();
        Lines { text, starts }
    }

    pub fn count(&self) -> u32 {
        self.starts.len() as u32
    }

    /// The line's text without its line ending; empty past the end.
    pub fn line(&self, number: u32) -> &'a str {
        let Some(index) = (number as usize).checked_sub(1) else {
            return "";
        };
        let Some(&start) = self.starts.get(index) else {
            return "";
        };
        let end = self
            .starts
            .get(index + 1)
            .copied()
            .unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    /// The 1-based line a byte offset is on.
    pub fn line_of(&self, offset: usize) -> u32 {
        self.starts.partition_point(|&s| s <= offset) as u32
    }

    /// The byte offset of a line and character column, if the line has that column.
    pub fn offset(&self, line: u32, column: u32) -> Option<usize> {
        let start = *self.starts.get((line as usize).checked_sub(1)?)?;
        let within = byte_of_column(self.line(line), column)?;
        Some(start + within)
    }
}

/// The byte index of a 1-based character column in a line.
pub fn byte_of_column(line: &str, column: u32) -> Option<usize> {
    let skip = (column as usize).checked_sub(1)?;
    if skip == line.chars().count() {
        return Some(line.len());
    }
    line.char_indices().nth(skip).map(|(i, _)| i)
}

/// The sentence of a line that holds the byte range `at..at + len`: from the end of the
/// sentence before it to its own final stop, or the line's ends.
pub fn sentence_around(line: &str, at: usize, len: usize) -> (&str, usize) {
    let ends_sentence = |before: char, after: Option<char>| {
        matches!(before, '.' | '?' | '!') && after.is_none_or(char::is_whitespace)
    };
    let mut start = 0;
    let mut previous = None;
    for (i, c) in line[..at].char_indices() {
        if let Some(p) = previous {
            if ends_sentence(p, Some(c)) {
                start = i;
            }
        }
        previous = Some(c);
    }
    let from = (at + len).min(line.len());
    let mut end = line.len();
    let mut chars = line[from..].char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if ends_sentence(c, chars.peek().map(|&(_, n)| n)) {
            end = from + i + c.len_utf8();
            break;
        }
    }
    let sentence = &line[start..end];
    let trimmed = sentence.trim_start();
    (
        trimmed.trim_end(),
        at - start - (sentence.len() - trimmed.len()),
    )
}

/// The sentence a claim stands in, split around its name, at most `room` characters on
/// either side of it (the cut sides say where text was left out).
#[derive(Debug, PartialEq, Eq)]
pub struct Quote<'a> {
    pub before: &'a str,
    pub name: &'a str,
    pub after: &'a str,
    pub cut_before: bool,
    pub cut_after: bool,
}

pub fn claim_quote<'a>(texts: &Texts<'a>, reference: &Reference, room: usize) -> Option<Quote<'a>> {
    let line = texts.lines(&reference.path)?.line(reference.line);
    let at = locate(line, reference.column, &reference.text)?;
    let (sentence, within) = sentence_around(line, at, reference.text.len());
    let (before, name_and_after) = sentence.split_at(within);
    let (name, after) = name_and_after.split_at(reference.text.len());
    let kept_before = last_chars(before, room);
    let kept_after = first_chars(after, room);
    Some(Quote {
        cut_before: kept_before.len() < before.len(),
        cut_after: kept_after.len() < after.len(),
        before: kept_before,
        name,
        after: kept_after,
    })
}

/// Where a name written at a character column starts in its line: at that column when the
/// name is there, else its first occurrence in the line.
pub fn locate(line: &str, column: u32, name: &str) -> Option<usize> {
    locate_at(line, byte_of_column(line, column), name)
}

/// Where a name starts in a text: at the expected byte offset when it is there, else at its
/// first occurrence.
pub fn locate_at(text: &str, at: Option<usize>, name: &str) -> Option<usize> {
    if name.is_empty() {
        return None;
    }
    at.filter(|&at| text.get(at..).is_some_and(|rest| rest.starts_with(name)))
        .or_else(|| text.find(name))
}

fn last_chars(text: &str, n: usize) -> &str {
    match text.char_indices().rev().nth(n.saturating_sub(1)) {
        Some((i, _)) if n > 0 => &text[i..],
        _ if n == 0 => "",
        _ => text,
    }
}

fn first_chars(text: &str, n: usize) -> &str {
    match text.char_indices().nth(n) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_address_characters() {
        let lines = Lines::new("first\nsé Imputer\r\nlast");
        assert_eq!(lines.count(), 3);
        assert_eq!(lines.line(2), "sé Imputer");
        assert_eq!(lines.line(4), "");
        // Column 4 is the I after a two-byte é.
        assert_eq!(lines.offset(2, 4), Some(6 + 4));
        assert_eq!(lines.line_of(6 + 4), 2);
        assert_eq!(lines.line_of(0), 1);
        assert_eq!(lines.offset(2, 40), None);
        assert_eq!(lines.offset(0, 1), None);
    }

    #[test]
    fn the_sentence_around_a_name() {
        let line = "Missing values are common. For example, scikit-learn provides an Imputer class. See below.";
        let at = line.find("Imputer").unwrap();
        let (sentence, within) = sentence_around(line, at, "Imputer".len());
        assert_eq!(
            sentence,
            "For example, scikit-learn provides an Imputer class."
        );
        assert_eq!(&sentence[within..within + 7], "Imputer");
        // Dots inside names do not end sentences.
        let line = "use np.array here and sklearn.Imputer too";
        let at = line.find("Imputer").unwrap();
        assert_eq!(sentence_around(line, at, 7).0, line);
    }

    #[test]
    fn quotes_are_cut_to_their_room() {
        assert_eq!(last_chars("abcdef", 2), "ef");
        assert_eq!(last_chars("ab", 5), "ab");
        assert_eq!(last_chars("ab", 0), "");
        assert_eq!(first_chars("abcdef", 2), "ab");
        assert_eq!(first_chars("ab", 5), "ab");
        // A column that misses the name falls back to the name's first occurrence.
        assert_eq!(locate("an Imputer class", 4, "Imputer"), Some(3));
        assert_eq!(locate("an Imputer class", 1, "Imputer"), Some(3));
        assert_eq!(locate("an Imputer class", 1, "Scaler"), None);
    }
}

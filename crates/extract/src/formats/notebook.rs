//! Jupyter notebooks (`.ipynb`, nbformat 4): every code cell is an example, and a
//! notebook is one session, so cells run in order in one namespace as in a kernel.
//! Headings in Markdown cells name the snippets after them.
//!
//! Lines are lines of the `.ipynb` file: Jupyter writes a cell's source as a JSON array
//! with one source line per file line, so a code line's document line is the line of its
//! string in the file. Each snippet also carries its cell number.

use serde::Deserialize;
use serde_json::value::RawValue;
use snipcheck_record::{Diagnostic, Severity};

use crate::doctest;
use crate::formats::markdown::{self, LineIndex};
use crate::ids::{Item, Meta};

/// The session all code cells of a notebook share.
pub(crate) const SESSION: &str = "notebook";

#[derive(Deserialize)]
struct Notebook<'a> {
    #[serde(borrow)]
    cells: Option<Vec<Cell<'a>>>,
    nbformat: Option<u32>,
    #[serde(default)]
    metadata: serde_json::Value,
}

#[derive(Deserialize)]
struct Cell<'a> {
    cell_type: String,
    #[serde(borrow)]
    source: &'a RawValue,
    #[serde(default)]
    metadata: serde_json::Value,
}

/// Scans a notebook; a file that is not a notebook is one error diagnostic.
pub(crate) fn scan(text: &str, path: &str) -> (Vec<Item>, Vec<Diagnostic>) {
    let lines = LineIndex::new(text);
    let error = |line: Option<u32>, message: String| {
        vec![Diagnostic {
            path: path.to_string(),
            line,
            severity: Severity::Error,
            message,
        }]
    };
    let notebook: Notebook = match serde_json::from_str(text) {
        Ok(n) => n,
        Err(err) => {
            // At the end of a file that ends with a newline, serde counts one line more
            // than the file has: the error is on its last line.
            let last = lines.line_of(text.len().saturating_sub(1));
            let line = u32::try_from(err.line())
                .ok()
                .filter(|l| *l > 0)
                .map(|l| l.min(last));
            return (
                Vec::new(),
                error(line, format!("not a valid notebook: {err}")),
            );
        }
    };
    let Some(cells) = notebook.cells else {
        let version = notebook
            .nbformat
            .map_or("unknown".into(), |v| v.to_string());
        return (
            Vec::new(),
            error(
                None,
                format!("not a notebook snipcheck reads: no \"cells\" (nbformat {version}; version 4 is supported)"),
            ),
        );
    };
    if let Some(language) = language(&notebook.metadata).filter(|l| l != "python") {
        return (
            Vec::new(),
            vec![Diagnostic {
                path: path.to_string(),
                line: None,
                severity: Severity::Info,
                message: format!(
                    "the notebook's language is {language}: its cells are not checked"
                ),
            }],
        );
    }

    let mut items = Vec::new();
    let mut diagnostics = Vec::new();
    for (index, cell) in cells.iter().enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let Some(source) = Source::read(cell.source, text, &lines) else {
            let line = offset_line(cell.source, text, &lines);
            diagnostics.extend(error(
                Some(line),
                format!("cell {number}: \"source\" is neither a string nor a list of strings"),
            ));
            continue;
        };
        match cell.cell_type.as_str() {
            "markdown" => items.extend(
                markdown::scan(&source.text, path)
                    .0
                    .into_iter()
                    .filter(|i| matches!(i, Item::Heading(_))),
            ),
            "code" => items.extend(code_cell(&source, number, &cell.metadata)),
            _ => {}
        }
    }
    (items, diagnostics)
}

/// The notebook's language, when its metadata says.
fn language(metadata: &serde_json::Value) -> Option<String> {
    let name = metadata["kernelspec"]["language"]
        .as_str()
        .or_else(|| metadata["language_info"]["name"].as_str())?;
    Some(name.to_ascii_lowercase())
}

/// A cell's source text and the file line of each of its lines.
struct Source {
    text: String,
    lines: Vec<u32>,
}

impl Source {
    fn read(raw: &RawValue, text: &str, index: &LineIndex) -> Option<Source> {
        if let Ok(whole) = serde_json::from_str::<String>(raw.get()) {
            // One string: every line of it sits on the string's file line.
            let line = offset_line(raw, text, index);
            let count = whole.split('\n').count();
            return Some(Source {
                text: whole,
                lines: vec![line; count],
            });
        }
        let parts: Vec<&RawValue> = serde_json::from_str(raw.get()).ok()?;
        let mut source = Source {
            text: String::new(),
            lines: Vec::new(),
        };
        for part in parts {
            let piece: String = serde_json::from_str(part.get()).ok()?;
            let line = offset_line(part, text, index);
            for (n, _) in piece.split('\n').enumerate() {
                // A piece continues the line the previous one left open.
                if n > 0 || source.text.is_empty() || source.text.ends_with('\n') {
                    source.lines.push(line);
                }
            }
            if piece.ends_with('\n') {
                source.lines.pop();
            }
            source.text.push_str(&piece);
        }
        if source.lines.is_empty() {
            source.lines.push(offset_line(raw, text, index));
        }
        Some(source)
    }
}

/// The file line where a borrowed JSON value starts.
fn offset_line(raw: &RawValue, text: &str, index: &LineIndex) -> u32 {
    // A borrowed RawValue is a slice of `text`: its address gives its offset.
    let offset = (raw.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
    index.line_of(offset.min(text.len()))
}

/// A code cell as a snippet: IPython line magics and shell escapes (`%time`, `!pip`)
/// are not Python and become `pass` (so lines keep their numbers); a cell magic
/// (`%%bash`) makes the whole cell something else.
fn code_cell(source: &Source, cell: u32, metadata: &serde_json::Value) -> Option<Item> {
    let lines: Vec<&str> = source.text.split('\n').collect();
    let first = lines.iter().position(|l| !l.trim().is_empty())?;
    let last = lines.iter().rposition(|l| !l.trim().is_empty())?;
    if lines[first].trim_start().starts_with("%%") {
        return None;
    }
    let mut code = String::new();
    for line in &lines[first..=last] {
        let body = line.trim_start();
        if body.starts_with('%') || body.starts_with('!') {
            code.push_str(&line[..line.len() - body.len()]);
            code.push_str("pass  # ");
        }
        code.push_str(line);
        code.push('\n');
    }
    let line_of = |n: usize| {
        source
            .lines
            .get(n)
            .or(source.lines.last())
            .copied()
            .unwrap_or(1)
    };
    let tags = metadata["tags"].as_array();
    let skip = tags.is_some_and(|t| t.iter().any(|t| t == "skip-execution"))
        || code.contains("# NBVAL_SKIP");
    let mut meta = if doctest::is_session(&code) {
        doctest::session_meta()
    } else {
        Meta::default()
    };
    meta.session = Some(SESSION.to_string());
    meta.cell = Some(cell);
    // Skipped the way the runner skips anything: a condition that is true.
    meta.skip_if = skip.then(|| "True".to_string());
    // A source in one string puts all its lines on one file line.
    meta.lines = (first..=last).map(line_of).collect();
    Some(Item::Code {
        line: line_of(first),
        end_line: line_of(last),
        code,
        meta: Box::new(meta),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOTEBOOK: &str = r##"{
 "cells": [
  {
   "cell_type": "markdown",
   "metadata": {},
   "source": [
    "# Load data\n",
    "Some prose."
   ]
  },
  {
   "cell_type": "code",
   "execution_count": 1,
   "metadata": {},
   "outputs": [],
   "source": [
    "%matplotlib inline\n",
    "import json\n",
    "data = json.loads(\"[1, 2]\")"
   ]
  },
  {
   "cell_type": "code",
   "metadata": {"tags": ["skip-execution"]},
   "outputs": [],
   "source": "print(data)\nprint(len(data))"
  },
  {
   "cell_type": "code",
   "metadata": {},
   "outputs": [],
   "source": ["%%bash\n", "ls\n"]
  },
  {
   "cell_type": "code",
   "metadata": {},
   "outputs": [],
   "source": []
  }
 ],
 "metadata": {"kernelspec": {"language": "python", "name": "python3"}},
 "nbformat": 4,
 "nbformat_minor": 5
}
"##;

    #[test]
    fn code_cells_with_file_lines_and_cell_numbers() {
        let (items, diagnostics) = scan(NOTEBOOK, "n.ipynb");
        assert!(diagnostics.is_empty());
        assert_eq!(items[0], Item::Heading("Load data".into()));
        let Item::Code {
            line,
            end_line,
            code,
            meta,
        } = &items[1]
        else {
            panic!("a code cell: {items:?}")
        };
        assert_eq!((*line, *end_line), (17, 19));
        assert_eq!(
            code,
            "pass  # %matplotlib inline\nimport json\ndata = json.loads(\"[1, 2]\")\n"
        );
        assert_eq!(meta.cell, Some(2));
        assert_eq!(meta.session.as_deref(), Some(SESSION));
        let Item::Code {
            line,
            end_line,
            meta,
            ..
        } = &items[2]
        else {
            panic!("a code cell")
        };
        // One source string: its lines all sit on the string's line.
        assert_eq!((*line, *end_line), (26, 26));
        assert_eq!(meta.skip_if.as_deref(), Some("True"));
        // The cell magic and the empty cell give nothing.
        assert_eq!(items.len(), 3);
    }

    #[test]
    fn malformed_notebooks_are_clear_errors() {
        for (text, line, start) in [
            (
                "{\n \"cells\": [\n  {\"cell_type\": \"code\",,}\n ]\n}",
                Some(3),
                "not a valid notebook: ",
            ),
            (
                "{\"nbformat\": 3, \"worksheets\": []}",
                None,
                "not a notebook snipcheck reads: no \"cells\" (nbformat 3",
            ),
            ("[1, 2]", Some(1), "not a valid notebook: "),
            ("", Some(1), "not a valid notebook: "),
            // Cut short after a newline: the last line, not the one after it.
            ("{\n \"cells\": [\n", Some(2), "not a valid notebook: "),
        ] {
            let (items, diagnostics) = scan(text, "bad.ipynb");
            assert!(items.is_empty());
            assert_eq!(diagnostics.len(), 1, "{text}");
            assert_eq!(diagnostics[0].severity, Severity::Error);
            assert_eq!(diagnostics[0].line, line, "{text}");
            assert!(
                diagnostics[0].message.starts_with(start),
                "{}",
                diagnostics[0].message
            );
        }
        let (items, diagnostics) = scan(
            "{\"cells\": [{\"cell_type\": \"code\", \"source\": 5}]}",
            "odd.ipynb",
        );
        assert!(items.is_empty());
        assert!(diagnostics[0].message.contains("cell 1"));
    }

    #[test]
    fn other_languages_are_not_run() {
        let text = "{\"cells\": [{\"cell_type\": \"code\", \"source\": \"x <- 1\"}], \"metadata\": {\"kernelspec\": {\"language\": \"R\"}}}";
        let (items, diagnostics) = scan(text, "r.ipynb");
        assert!(items.is_empty());
        assert_eq!(diagnostics[0].severity, Severity::Info);
    }
}

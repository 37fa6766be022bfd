//! Finds the Python examples in documents.
//!
//! The pipeline is: [`load`] a file (validating that it is a text document), [`extract`]
//! its snippets (fenced blocks in Markdown, code paragraphs in plain text, code directives
//! and doctest blocks in reST, `<pre>` blocks in HTML, code cells in notebooks, doctests in
//! Python docstrings), each with an exact line span and an id that survives edits elsewhere
//! in the document. [`discover`] walks a folder for documents. Nothing here runs Python:
//! code is recognised by each format's structure or, in plain text, by line heuristics.

mod definitions;
mod discover;
mod doctest;
mod formats;
mod ids;
mod load;
mod markers;
mod output;
mod pylike;
pub mod python_text;
mod references;

use std::path::Path;

use snipcheck_record::{Diagnostic, Snippet};

use formats::{html, markdown, notebook, rst, text};

pub use definitions::defined_names;
pub use discover::discover;
pub use load::{load, LoadError};
pub use markers::Markers;
pub use references::{
    extract_code_references, extract_references, ReferenceCandidate, ReferenceContext,
    IGNORE_MARKER,
};

/// How a document is written, which decides how examples are found in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain text: examples are unfenced paragraphs that read as Python.
    Text,
    /// CommonMark: examples are fenced code blocks tagged `python`, `py` or `python3`.
    Markdown,
    /// HTML: `<pre>` blocks (highlighted or not) in Python or with a `>>>` session.
    Html,
    /// Python source: the `>>>` examples in the docstrings doctest would visit.
    Python,
    /// A Jupyter notebook: code cells, run in order in one namespace.
    Notebook,
    /// reStructuredText: code and Sphinx doctest directives, doctest and literal blocks.
    Rst,
}

impl Format {
    /// The format implied by a file's extension (case-insensitive), `None` when the file
    /// is not a document snipcheck reads.
    pub fn for_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "md" | "markdown" | "mdown" => Some(Format::Markdown),
            "txt" | "text" => Some(Format::Text),
            "html" | "htm" => Some(Format::Html),
            "py" => Some(Format::Python),
            "ipynb" => Some(Format::Notebook),
            "rst" | "rest" => Some(Format::Rst),
            _ => None,
        }
    }

    /// Whether searching a folder picks up files of this format. Python sources are
    /// checked only when named: their docstrings run with the module imported, and
    /// importing every module of a tree could run anything.
    pub fn discoverable(self) -> bool {
        self != Format::Python
    }
}

/// What a code block holds, as its markup says (a Markdown info string, HTML classes, a
/// reST directive's argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    Python,
    /// An interactive session (`pycon`).
    Console,
    /// The expected output of the example before it.
    Output,
    /// Another language: never an example.
    Other,
}

impl Lang {
    /// The language a highlighter's name for it stands for (case-insensitive); `None`
    /// when the name is not one of Python's.
    pub(crate) fn from_name(name: &str) -> Option<Lang> {
        match name.to_ascii_lowercase().as_str() {
            "python" | "py" | "python3" | "py3" => Some(Lang::Python),
            "pycon" | "python-console" => Some(Lang::Console),
            _ => None,
        }
    }
}

/// A loaded document: valid UTF-8 text without a byte-order mark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The path as the user named it; copied into every snippet and diagnostic.
    pub path: String,
    pub text: String,
    pub format: Format,
}

/// Everything found in one document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extraction {
    /// In document order, ids unique within the document.
    pub snippets: Vec<Snippet>,
    /// Problems with the document itself (e.g. an unterminated fence).
    pub diagnostics: Vec<Diagnostic>,
}

/// Finds every Python example in `doc`.
pub fn extract(doc: &Document) -> Extraction {
    let (mut items, diagnostics) = match doc.format {
        Format::Text => (text::scan(&doc.text), Vec::new()),
        Format::Markdown => markdown::scan(&doc.text, &doc.path),
        Format::Html => html::scan(&doc.text, &doc.path),
        Format::Python => (doctest::scan_python(&doc.text, &doc.path), Vec::new()),
        Format::Notebook => notebook::scan(&doc.text, &doc.path),
        Format::Rst => rst::scan(&doc.text, &doc.path),
    };
    output::comments_pass(&mut items);
    Extraction {
        snippets: ids::assign(&doc.path, items),
        diagnostics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_from_extension() {
        for (p, f) in [
            ("a.md", Some(Format::Markdown)),
            ("a.MD", Some(Format::Markdown)),
            ("dir/a.markdown", Some(Format::Markdown)),
            ("a.mdown", Some(Format::Markdown)),
            ("a.txt", Some(Format::Text)),
            ("a.text", Some(Format::Text)),
            ("a.html", Some(Format::Html)),
            ("a.HTM", Some(Format::Html)),
            ("m.py", Some(Format::Python)),
            ("n.ipynb", Some(Format::Notebook)),
            ("a.rst", Some(Format::Rst)),
            ("a.png", None),
            ("README", None),
            (".md", None),
        ] {
            assert_eq!(Format::for_path(Path::new(p)), f, "{p}");
        }
    }

    #[test]
    fn extract_dispatches_on_format() {
        let text = "Intro\n\nimport os\nprint(os.sep)\n".to_string();
        let doc = Document {
            path: "a.txt".into(),
            text: text.clone(),
            format: Format::Text,
        };
        let ex = extract(&doc);
        assert_eq!(ex.snippets.len(), 1);
        assert_eq!(ex.snippets[0].path, "a.txt");
        assert_eq!(ex.snippets[0].id, "intro");
        assert_eq!(ex.snippets[0].section.as_deref(), Some("Intro"));
        // The same text as Markdown has no fences, hence no snippets.
        let md = Document {
            format: Format::Markdown,
            ..doc
        };
        assert!(extract(&md).snippets.is_empty());
    }

    const GUIDE: &str = include_str!("../../../snippets/ml-engineer-interview-guide.txt");

    fn guide(text: &str) -> Vec<Snippet> {
        extract(&Document {
            path: "guide.txt".into(),
            text: text.to_string(),
            format: Format::Text,
        })
        .snippets
    }

    #[test]
    fn guide_ids_are_unique_and_readable() {
        let snippets = guide(GUIDE);
        assert_eq!(snippets.len(), 18);
        let mut ids: Vec<&str> = snippets.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids[0], "implement-data-augmentation-computer-vision-task");
        assert_eq!(
            snippets[0].section.as_deref(),
            Some("Q3. How do you implement data augmentation in a computer vision task?")
        );
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 18);
    }

    #[test]
    fn guide_ids_survive_an_insertion() {
        let before = guide(GUIDE);
        let inserted = GUIDE.replacen(
            "Q3. How do you implement",
            "Q3. How do you load a CSV file with pandas?\n\nFor example,\n\n\
             import pandas as pd\ndf = pd.read_csv(\"data.csv\")\n\n\
             Q4. How do you implement",
            1,
        );
        let after = guide(&inserted);
        assert_eq!(after.len(), 19);
        assert_eq!(after[0].id, "load-csv-file-pandas");
        for (old, new) in before.iter().zip(&after[1..]) {
            assert_eq!(old.id, new.id);
            assert_eq!(old.code, new.code);
            assert_eq!(old.line + 7, new.line);
        }
    }

    /// The guide authored as Markdown, HTML (with highlighter spans and entities) and
    /// reST gives the snippets of the plain-text original: same code, same ids.
    #[test]
    fn guide_in_every_format_gives_the_same_snippets() {
        let original = guide(GUIDE);
        for (path, text, format) in [
            (
                "guide.md",
                include_str!("../../../fixtures/formats/guide.md"),
                Format::Markdown,
            ),
            (
                "guide.html",
                include_str!("../../../fixtures/formats/guide.html"),
                Format::Html,
            ),
            (
                "guide.rst",
                include_str!("../../../fixtures/formats/guide.rst"),
                Format::Rst,
            ),
        ] {
            let ex = extract(&Document {
                path: path.into(),
                text: text.into(),
                format,
            });
            assert!(ex.diagnostics.is_empty(), "{path}: {:?}", ex.diagnostics);
            let pairs = |s: &[Snippet]| -> Vec<(String, String, Option<String>)> {
                s.iter()
                    .map(|s| (s.id.clone(), s.code.clone(), s.section.clone()))
                    .collect()
            };
            assert_eq!(pairs(&ex.snippets), pairs(&original), "{path}");
        }
    }

    fn summary(ex: &Extraction) -> Vec<(String, u32, u32)> {
        ex.snippets
            .iter()
            .map(|s| (s.id.clone(), s.line, s.end_line))
            .collect()
    }

    fn owned(rows: &[(&str, u32, u32)]) -> Vec<(String, u32, u32)> {
        rows.iter()
            .map(|(i, a, b)| (i.to_string(), *a, *b))
            .collect()
    }

    #[test]
    fn fenced_fixture() {
        let ex = extract(&Document {
            path: "fixtures/extract/fenced.md".into(),
            text: include_str!("../../../fixtures/extract/fenced.md").into(),
            format: Format::Markdown,
        });
        assert_eq!(
            summary(&ex),
            owned(&[
                ("fenced-examples", 6, 7),
                ("fenced-examples-2", 11, 11),
                ("fenced-examples-3", 15, 17),
                ("fenced-examples-4", 21, 22),
                ("fenced-examples-5", 28, 28),
                ("fenced-examples-6", 32, 32),
                // A pycon session is a doctest example.
                ("sessions-other-blocks", 38, 39),
                ("usage", 58, 58),
                ("usage-2", 62, 62),
                ("usage~2", 68, 68),
                ("unterminated", 74, 75),
            ])
        );
        assert_eq!(ex.snippets[2].code, "s = \"\"\"\n```\n\"\"\"\n");
        assert_eq!(ex.snippets[3].code, "if x:\n    y = 2\n");
        assert_eq!(ex.snippets[6].kind, snipcheck_record::SnippetKind::Doctest);
        assert_eq!(ex.snippets[7].section.as_deref(), Some("Step 2: Usage"));
        assert_eq!(ex.diagnostics.len(), 1);
        assert_eq!(ex.diagnostics[0].line, Some(73));
        assert_eq!(ex.diagnostics[0].path, "fixtures/extract/fenced.md");
    }

    #[test]
    fn paragraphs_fixture() {
        let ex = extract(&Document {
            path: "paragraphs.txt".into(),
            text: include_str!("../../../fixtures/extract/paragraphs.txt").into(),
            format: Format::Text,
        });
        assert_eq!(
            summary(&ex),
            owned(&[
                ("define-function", 10, 16),
                ("build-list", 22, 26),
                ("imports", 30, 32),
                ("imports-2", 36, 37),
            ])
        );
        assert!(ex.snippets[0]
            .code
            .ends_with("    return width * height\n\nprint(area(2, 3))\n"));
        assert_eq!(ex.snippets[2].section.as_deref(), Some("Step 3: Imports"));
        assert!(ex.diagnostics.is_empty());
    }
}

//! Fixes a document from its record, in the style of `ruff check --fix`.
//!
//! [`names`] decides which replacement a wrong API name gets and whether it is safe to apply
//! unasked; [`edit`] applies replacements to a document's text, keeping the words around
//! them right ("an Imputer class" becomes "a SimpleImputer class"); [`write`] shows the
//! result as a unified diff or writes it atomically, refusing when the document changed
//! since it was read. Nothing here runs a check: the caller gives the record's references.

pub mod edit;
pub mod names;
pub mod write;

pub use edit::{apply, Applied, Skipped};
pub use names::{fixes_for, Fix, Safety};
pub use write::{unified_diff, write_if_unchanged};

use snipcheck_record::Reference;

/// One document's fixes: its text before and after, and what was and was not applied.
#[derive(Debug)]
pub struct DocumentFix {
    pub path: String,
    pub before: String,
    pub applied: Applied,
}

impl DocumentFix {
    pub fn changed(&self) -> bool {
        self.before != self.applied.text
    }
}

/// The fixes for every document that has some: `documents` are (path, text, whether its
/// references' lines and columns are positions in that text: not so for notebooks, whose
/// cells are JSON strings, nor for HTML, whose text is decoded).
pub fn plan<'a>(
    documents: impl IntoIterator<Item = (&'a str, &'a str, bool)>,
    references: &[Reference],
    unsafe_fixes: bool,
) -> Vec<DocumentFix> {
    let fixes = fixes_for(references);
    documents
        .into_iter()
        .filter_map(|(path, text, positions_are_text)| {
            let own: Vec<Fix> = fixes.iter().filter(|f| f.path == path).cloned().collect();
            if own.is_empty() {
                return None;
            }
            let applied = if positions_are_text {
                apply(text, &own, unsafe_fixes)
            } else {
                Applied {
                    text: text.to_string(),
                    applied: Vec::new(),
                    skipped: own
                        .into_iter()
                        .map(|fix| Skipped {
                            fix,
                            why: "fixes are not applied to this format yet".into(),
                        })
                        .collect(),
                }
            };
            Some(DocumentFix {
                path: path.to_string(),
                before: text.to_string(),
                applied,
            })
        })
        .collect()
}

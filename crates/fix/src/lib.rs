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

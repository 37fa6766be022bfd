//! One module per document format, each finding the examples its own way; what they share
//! (ids, markers, doctest sessions, the Python-text reader) lives beside this folder.

pub(crate) mod html;
pub(crate) mod markdown;
pub(crate) mod notebook;
pub(crate) mod rst;
pub(crate) mod text;

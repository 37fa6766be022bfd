//! Reading a document and refusing what is not one (binary files, other encodings,
//! unknown formats) with a message that names the file and, for encoding errors, the line.

use std::fmt;
use std::path::Path;

use crate::{Document, Format};

/// Why a file could not be loaded as a document.
#[derive(Debug)]
pub enum LoadError {
    /// The file could not be read.
    Io {
        path: String,
        source: std::io::Error,
    },
    /// The file contains NUL bytes: an image, archive or other binary.
    Binary { path: String },
    /// The file is not UTF-8. `line` is 1-based; `byte` is the 1-based byte position of the
    /// first bad byte within that line.
    InvalidUtf8 { path: String, line: u32, byte: u32 },
    /// The extension is not one of the document formats.
    UnknownFormat { path: String },
}

impl LoadError {
    /// The display path of the file the error is about.
    pub fn path(&self) -> &str {
        match self {
            LoadError::Io { path, .. }
            | LoadError::Binary { path }
            | LoadError::InvalidUtf8 { path, .. }
            | LoadError::UnknownFormat { path } => path,
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io { path, source } => write!(f, "{path}: {source}"),
            LoadError::Binary { path } => {
                write!(
                    f,
                    "{path}: binary file (contains NUL bytes), not a document"
                )
            }
            LoadError::InvalidUtf8 { path, line, byte } => write!(
                f,
                "{path}: not valid UTF-8 at line {line} (byte {byte}): is this a text document?"
            ),
            LoadError::UnknownFormat { path } => write!(
                f,
                "{path}: unknown document format (expected .md, .markdown, .mdown, .txt, .text, .html, .htm, .rst, .ipynb or .py)"
            ),
        }
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoadError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Reads `path` as a document; `display` is how the user named it (used in messages and
/// copied into the [`Document`]). Content is checked before the extension so that a
/// binary file is reported as binary whatever it is called.
pub fn load(path: &Path, display: &str) -> Result<Document, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: display.to_string(),
        source,
    })?;
    let text = decode(bytes, display)?;
    let format = Format::for_path(path).ok_or_else(|| LoadError::UnknownFormat {
        path: display.to_string(),
    })?;
    Ok(Document {
        path: display.to_string(),
        text,
        format,
    })
}

/// Validates and decodes file content: no NUL bytes, UTF-8, BOM removed.
fn decode(bytes: Vec<u8>, display: &str) -> Result<String, LoadError> {
    if bytes.contains(&0) {
        return Err(LoadError::Binary {
            path: display.to_string(),
        });
    }
    let bom = if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    match String::from_utf8(bytes) {
        Ok(mut s) => {
            s.drain(..bom);
            Ok(s)
        }
        Err(e) => {
            let bytes = e.as_bytes();
            let bad = e.utf8_error().valid_up_to();
            let before = bytes.get(..bad).unwrap_or(bytes);
            let newlines = before.iter().filter(|&&b| b == b'\n').count();
            let line_start = before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            Err(LoadError::InvalidUtf8 {
                path: display.to_string(),
                line: to_u32(newlines.saturating_add(1)),
                byte: to_u32((bad - line_start).saturating_add(1)),
            })
        }
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn write(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        (dir, path)
    }

    #[test]
    fn loads_text_and_markdown() {
        let (_d, p) = write("guide.txt", b"hello\n");
        let doc = load(&p, "guide.txt").expect("loads");
        assert_eq!(doc.text, "hello\n");
        assert_eq!(doc.format, Format::Text);
        assert_eq!(doc.path, "guide.txt");
        let (_d, p) = write("README.md", b"# t\n");
        assert_eq!(
            load(&p, "README.md").expect("loads").format,
            Format::Markdown
        );
    }

    #[test]
    fn binary_file_is_refused() {
        let (_d, p) = write("logo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
        let err = load(&p, "logo.png").unwrap_err();
        assert!(matches!(err, LoadError::Binary { .. }));
        assert_eq!(
            err.to_string(),
            "logo.png: binary file (contains NUL bytes), not a document"
        );
        // Even with a document extension.
        let (_d, p) = write("notes.txt", b"abc\0def");
        assert!(matches!(
            load(&p, "notes.txt"),
            Err(LoadError::Binary { .. })
        ));
    }

    #[test]
    fn invalid_utf8_names_line_and_byte() {
        let mut bytes = b"line one\nline two\n".repeat(5);
        bytes.extend_from_slice(b"line\xe9leven\n");
        let (_d, p) = write("guide.txt", &bytes);
        let err = load(&p, "guide.txt").unwrap_err();
        match &err {
            LoadError::InvalidUtf8 { line, byte, .. } => {
                assert_eq!((*line, *byte), (11, 5));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            err.to_string(),
            "guide.txt: not valid UTF-8 at line 11 (byte 5): is this a text document?"
        );
        // First byte of the file.
        let (_d, p) = write("latin.md", b"\xff");
        assert!(matches!(
            load(&p, "latin.md"),
            Err(LoadError::InvalidUtf8 {
                line: 1,
                byte: 1,
                ..
            })
        ));
    }

    #[test]
    fn bom_is_stripped() {
        let (_d, p) = write("a.md", b"\xEF\xBB\xBF# Title\n");
        assert_eq!(load(&p, "a.md").expect("loads").text, "# Title\n");
    }

    #[test]
    fn unknown_extension_and_missing_file() {
        let (_d, p) = write("notes.adoc", b"text\n");
        let err = load(&p, "notes.adoc").unwrap_err();
        assert!(matches!(err, LoadError::UnknownFormat { .. }));
        assert!(err
            .to_string()
            .starts_with("notes.adoc: unknown document format"));
        let missing = p.with_file_name("missing.md");
        let err = load(&missing, "missing.md").unwrap_err();
        assert!(matches!(err, LoadError::Io { .. }));
        assert!(err.to_string().starts_with("missing.md: "));
        assert!(std::error::Error::source(&err).is_some());
        assert_eq!(err.path(), "missing.md");
    }
}

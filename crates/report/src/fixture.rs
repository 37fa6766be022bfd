//! A record with one of everything, for the formats' unit tests: every status, a failure
//! outside the snippet's lines, hostile text (markup, control characters), and references in
//! every state, which the runner does not produce yet; and the text of its documents.

use crate::{Source, SourceFormat};
use snipcheck_record::{
    Captured, Category, Diagnostic, Outcome, PythonInfo, Record, Reference, ReferenceKind,
    ReferenceStatus, Severity, Snippet, SnippetError, SnippetRecord,
};

fn snippet(id: &str, path: &str, line: u32, code: &str) -> Snippet {
    Snippet {
        id: id.into(),
        path: path.into(),
        line,
        end_line: line + code.lines().count() as u32 - 1,
        code: code.into(),
        section: Some(format!("Section of {id}")),
        ..Snippet::default()
    }
}

fn reference(text: &str, line: u32, status: ReferenceStatus, severity: Severity) -> Reference {
    Reference {
        id: format!("ref-{line}"),
        path: "docs/guide.md".into(),
        line,
        column: 5,
        text: text.into(),
        library: Some("sklearn".into()),
        name: text.into(),
        kind: ReferenceKind::Class,
        status,
        severity,
        resolved: None,
        suggestions: Vec::new(),
        reason: None,
    }
}

pub fn record() -> Record {
    let mut passed = Outcome::clean(Category::Passed, 3.0);
    passed.stdout = Captured {
        text: "total is 6\n".into(),
        truncated_bytes: 0,
    };
    let mut missing = Outcome::failed(
        Category::MissingName,
        SnippetError {
            kind: "ImportError".into(),
            message: "cannot import name 'Imputer' from 'sklearn.preprocessing' <&\"x\">".into(),
            line: Some(12),
            traceback: Some(
                "Traceback (most recent call last):\n  File \"docs/guide.md\", line 12, in <module>\nImportError: cannot import name 'Imputer'\n"
                    .into(),
            ),
        },
        812.5,
    );
    missing.suggestions = vec!["sklearn.impute.SimpleImputer".into()];
    missing.stderr = Captured {
        text: "warning \u{1b}[31mred\u{1b}[0m and a bell \u{7}\n</pre><script>alert(1)</script>\n"
            .into(),
        truncated_bytes: 10,
    };
    let timeout = Outcome::failed(
        Category::Timeout,
        SnippetError {
            kind: "Timeout".into(),
            message: "still running after 2 s; stopped".into(),
            line: None,
            traceback: None,
        },
        2000.0,
    );
    let skipped = Outcome::clean(Category::Skipped, 0.0);

    let mut unresolved = reference("Imputer", 3, ReferenceStatus::Unresolved, Severity::Error);
    unresolved.suggestions = vec!["sklearn.impute.SimpleImputer".into()];
    let mut resolved = reference(
        "SimpleImputer",
        4,
        ReferenceStatus::Resolved,
        Severity::Info,
    );
    resolved.resolved = Some("sklearn.impute.SimpleImputer".into());
    let warning = reference(
        "r_squared",
        5,
        ReferenceStatus::Unresolved,
        Severity::Warning,
    );
    let mut unchecked = reference("ImageAug", 6, ReferenceStatus::Unchecked, Severity::Info);
    unchecked.library = Some("imgaug".into());
    unchecked.reason = Some("imgaug is not installed".into());
    let ignored = reference("ClassWeight", 7, ReferenceStatus::Ignored, Severity::Info);

    Record::new(
        3,
        Some(PythonInfo {
            version: "3.11.7".into(),
            prefix: "/venv".into(),
        }),
        vec![
            SnippetRecord {
                snippet: snippet("passing", "docs/guide.md", 8, "total = 6\nprint(\"total is\", total)\n"),
                outcome: passed,
            },
            SnippetRecord {
                snippet: snippet(
                    "imputer",
                    "docs/guide.md",
                    11,
                    "import numpy as np\nfrom sklearn.preprocessing import Imputer\nimp = Imputer()\n",
                ),
                outcome: missing,
            },
            SnippetRecord {
                snippet: snippet("hangs", "docs/other.txt", 20, "while True:\n    pass\n"),
                outcome: timeout,
            },
            SnippetRecord {
                snippet: snippet("not-run", "docs/other.txt", 30, "print('x < y')\n"),
                outcome: skipped,
            },
        ],
        vec![unresolved, resolved, warning, unchecked, ignored],
        vec![
            Diagnostic {
                path: "docs/broken.md".into(),
                line: None,
                severity: Severity::Error,
                message: "binary file (contains NUL bytes), not a document".into(),
            },
            Diagnostic {
                path: "docs/other.txt".into(),
                line: Some(40),
                severity: Severity::Warning,
                message: "unterminated code fence opened at line 40".into(),
            },
        ],
    )
}

/// The Markdown document of the record: the claims on lines 3 to 7 (the last one, ignored,
/// falls on a fence and is not shown), the passing example fenced on lines 8-9, the failing
/// one indented on lines 11-13; raw HTML, a marker comment, an unsafe link and a remote
/// image, which the document view must defuse.
const GUIDE_MD: &str = "# A guide

Use Imputer to fill the gaps.
Use SimpleImputer instead.
Use r_squared to score.
Use ImageAug for images, and <script>alert(2)</script> stays text.
```python
total = 6
print(\"total is\", total)
```
    import numpy as np
    from sklearn.preprocessing import Imputer
    imp = Imputer()

<!-- snipcheck: skip -->

[a link](javascript:alert(3)) and ![a picture](https://example.org/x.png)
";

/// The plain-text document: a title, prose, the looping example on lines 20-21, the skipped
/// one on line 30.
const OTHER_TXT: &str = concat!(
    "Other notes\n\nSome prose before the examples.\n",
    "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n",
    "while True:\n    pass\n",
    "\n\n\n\n\n\n\n\n",
    "print('x < y')\n",
);

pub fn sources() -> Vec<Source<'static>> {
    vec![
        Source {
            path: "docs/guide.md",
            text: GUIDE_MD,
            format: SourceFormat::Markdown,
        },
        Source {
            path: "docs/other.txt",
            text: OTHER_TXT,
            format: SourceFormat::Text,
        },
    ]
}

#[test]
fn the_documents_hold_the_record_at_its_lines() {
    let lines: Vec<&str> = OTHER_TXT.lines().collect();
    assert_eq!(lines[19], "while True:");
    assert_eq!(lines[29], "print('x < y')");
    let guide: Vec<&str> = GUIDE_MD.lines().collect();
    assert_eq!(&guide[2][4..11], "Imputer");
    assert_eq!(guide[7], "total = 6");
    assert_eq!(guide[11], "    from sklearn.preprocessing import Imputer");
}

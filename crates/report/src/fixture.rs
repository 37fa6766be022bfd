//! A record with one of everything, for the formats' unit tests: every status, a failure
//! outside the snippet's lines, hostile text (markup, control characters), and references in
//! every state, which the runner does not produce yet.

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

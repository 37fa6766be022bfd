//! Every document format and construct: the snippets found in each fixture (ids, spans,
//! code, how they run) and their verdicts, in one record snapshot per fixture.

use crate::support::{record, snipcheck, snippet_verdicts, stable_settings, stderr};

/// Checks one fixture with the standard-library config and snapshots its record.
fn check_fixture(path: &str, snapshot: &str, exit_code: i32) -> serde_json::Value {
    let output = snipcheck(&[
        "check",
        path,
        "--config",
        "fixtures/formats/snipcheck.yaml",
        "--format",
        "json",
    ]);
    assert_eq!(
        output.status.code(),
        Some(exit_code),
        "stderr:\n{}",
        stderr(&output)
    );
    let record = record(&output);
    stable_settings().bind(|| insta::assert_json_snapshot!(snapshot, record));
    record
}

#[test]
fn markdown_sessions_and_expected_output() {
    let record = check_fixture("fixtures/formats/sessions.md", "sessions_md", 1);
    let got = snippet_verdicts(&record);
    let want = [
        ("pycon-session", "passed"),
        ("python-fence-that-session", "passed"),
        // Uses `total` from the session before it: sessions share a namespace.
        ("sessions-share-namespace", "passed"),
        ("doctest-rules", "passed"),
        ("wrong-expected-output", "output-mismatch"),
        ("unexpected-exception", "undefined-name"),
        ("output-fences", "passed"),
        ("output-fences-2", "output-mismatch"),
        ("output-comments", "output-mismatch"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(got, want);
    // Doctest counts examples as `python -m doctest` does; SKIP is not tried.
    let rules = &record["snippets"][3]["examples"];
    assert_eq!(rules["tried"], 3);
    assert_eq!(rules["skipped"], 1);
    let wrong = &record["snippets"][4];
    assert_eq!(wrong["examples"]["failed"], 2);
    assert_eq!(wrong["error"]["line"], 50);
}

#[test]
fn html_page() {
    let record = check_fixture("fixtures/formats/page.html", "page_html", 1);
    let lines: Vec<(u64, u64)> = record["snippets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["line"].as_u64().unwrap(), s["end_line"].as_u64().unwrap()))
        .collect();
    // HTML source lines, whatever markup the code sits in.
    assert_eq!(lines, [(14, 16), (21, 22), (33, 35), (43, 45)]);
}

#[test]
fn plain_text_sessions() {
    let record = check_fixture("fixtures/formats/sessions.txt", "sessions_txt", 0);
    assert_eq!(record["summary"]["passed"], 3);
}

#[test]
fn python_docstrings_run_with_their_module() {
    let record = check_fixture("fixtures/formats/shapes.py", "shapes_py", 1);
    let got = snippet_verdicts(&record);
    assert_eq!(
        got.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
        ["shapes", "square", "circle", "circle-area"]
    );
    assert_eq!(got[3].1, "output-mismatch");
    // `square(UNIT)` needs the module's globals.
    assert_eq!(record["snippets"][1]["category"], "passed");
}

#[test]
fn python_docstrings_found_as_doctest_finds_them() {
    let record = check_fixture("fixtures/formats/finder.py", "finder_py", 1);
    let got: Vec<(String, u64, String)> = record["snippets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_string(),
                s["line"].as_u64().unwrap(),
                s["category"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        // The docstring assigned to `__doc__`, at its own lines; not the literal it replaces.
        ("finder", 8, "passed"),
        ("triple", 18, "passed"),
        // Replaced and deleted at import: doctest does not run them.
        ("counter", 28, "skipped"),
        ("retired", 36, "skipped"),
        // `__test__` strings at their literals, named or written in the mapping.
        ("test-shared", 44, "passed"),
        ("test-inline", 51, "output-mismatch"),
    ];
    let want: Vec<(String, u64, String)> = want
        .iter()
        .map(|(id, line, category)| (id.to_string(), *line, category.to_string()))
        .collect();
    assert_eq!(got, want);
    // Why each was skipped, at its line.
    let diagnostics: Vec<(u64, &str)> = record["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["line"].as_u64().unwrap(), d["message"].as_str().unwrap()))
        .collect();
    assert_eq!(diagnostics.len(), 2);
    assert_eq!(diagnostics[0].0, 28);
    assert!(diagnostics[0].1.contains(
        "`finder.Counter` is the class `collections.Counter`, which belongs to another module"
    ));
    assert_eq!(diagnostics[1].0, 36);
    assert!(diagnostics[1]
        .1
        .contains("`finder.retired` does not exist once `finder` is imported"));
}

#[test]
fn notebook_cells_share_one_namespace() {
    let record = check_fixture("fixtures/formats/analysis.ipynb", "analysis_ipynb", 1);
    let got: Vec<(u64, u64, String)> = record["snippets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["cell"].as_u64().unwrap(),
                s["line"].as_u64().unwrap(),
                s["category"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        (2, 18, "passed"),
        // Uses `text` and `Counter` from cell 2.
        (3, 37, "passed"),
        (5, 54, "undefined-name"),
        (6, 66, "skipped"),
        // A session cell, still in the notebook's namespace.
        (7, 75, "passed"),
    ];
    let want: Vec<(u64, u64, String)> = want
        .iter()
        .map(|(c, l, v)| (*c, *l, v.to_string()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn a_malformed_notebook_is_an_input_error_with_its_line() {
    let output = snipcheck(&[
        "check",
        "fixtures/formats/broken.ipynb",
        "fixtures/formats/sessions.txt",
        "--config",
        "fixtures/formats/snipcheck.yaml",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let record = record(&output);
    let diagnostic = &record["diagnostics"][0];
    assert_eq!(diagnostic["path"], "fixtures/formats/broken.ipynb");
    assert_eq!(diagnostic["line"], 4);
    assert_eq!(diagnostic["severity"], "error");
    assert!(diagnostic["message"]
        .as_str()
        .unwrap()
        .starts_with("not a valid notebook: expected `,` or `]`"));
    // The other document is still checked.
    assert_eq!(record["summary"]["passed"], 3);
}

#[test]
fn rst_directives_groups_and_blocks() {
    let record = check_fixture("fixtures/formats/sphinx.rst", "sphinx_rst", 1);
    let got = snippet_verdicts(&record);
    let categories: Vec<&str> = got.iter().map(|(_, c)| c.as_str()).collect();
    assert_eq!(
        categories,
        [
            "passed",          // testsetup
            "passed",          // code-block
            "passed",          // doctest with +ELLIPSIS, using testsetup's import
            "passed",          // testcode + testoutput
            "output-mismatch", // testoutput that is wrong
            "skipped",         // :skipif: True
            "passed",          // another group does not see the default group's names
            "passed",          // literal block
            "passed",          // doctest block
        ]
    );
    assert_eq!(record["snippets"][6]["session"], "doctest:other");
}

/// A session's snippets share one namespace, so `--isolate snippet` must keep them in one
/// process: the notebook's later cells and the Markdown sessions still see earlier names.
#[test]
fn sessions_keep_their_namespace_when_snippets_are_isolated() {
    for fixture in [
        "fixtures/formats/analysis.ipynb",
        "fixtures/formats/sessions.md",
    ] {
        let run = |isolate: &str| {
            let output = snipcheck(&[
                "check",
                fixture,
                "--config",
                "fixtures/formats/snipcheck.yaml",
                "--format",
                "json",
                "--isolate",
                isolate,
            ]);
            snippet_verdicts(&record(&output))
        };
        assert_eq!(run("snippet"), run("document"), "{fixture}");
    }
}

/// doctest (with pdb and unittest) is loaded only for the documents that need it: a plain
/// snippet's interpreter is not one that imported them, and a session still runs.
#[test]
fn doctest_is_loaded_only_where_a_snippet_needs_it() {
    for jobs in ["1", "2"] {
        let output = snipcheck(&[
            "check",
            "fixtures/formats/lazy-doctest",
            "--config",
            "fixtures/formats/snipcheck.yaml",
            "--jobs",
            jobs,
            "--format",
            "json",
        ]);
        let record = record(&output);
        assert_eq!(output.status.code(), Some(0), "{}", record["snippets"]);
        assert_eq!(record["summary"]["passed"], 2, "{}", record["summary"]);
    }
}

//! Property tests for every extractor (Markdown, plain text, reST, HTML, notebooks, Python
//! docstrings, and the prose reference reader):
//!
//! 1. no input makes them panic: arbitrary strings, soups of each format's own syntax, and
//!    well-formed documents of each format mangled by random edits;
//! 2. every snippet's line span, expected-output line and diagnostic line, and every
//!    reference's line and column, lie inside the document; for generated documents the
//!    span's first and last lines are the lines the code came from;
//! 3. ids survive unrelated edits: changing, adding or removing a paragraph, an example or
//!    a whole section leaves the ids of the snippets in every other section as they were.
//!
//! Each property runs [`CASES`] cases from a fixed seed so that `cargo test --workspace`
//! stays fast and repeatable; `PROPTEST_CASES` and `PROPTEST_RNG_SEED` search longer or
//! elsewhere (`PROPTEST_CASES=20000 PROPTEST_RNG_SEED=7 cargo test -p snipcheck-extract
//! --test properties`). A failure prints its shrunk input.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{RngSeed, TestCaseError};
use snipcheck_extract::{
    extract, extract_references, Document, Format, ReferenceCandidate, ReferenceContext,
};
use snipcheck_record::Snippet;

/// Cases per property unless `PROPTEST_CASES` says otherwise.
const CASES: u32 = 128;
/// The random seed unless `PROPTEST_RNG_SEED` says otherwise.
const SEED: u64 = 20_240_611;

fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = CASES;
    }
    // The same cases on every run, so that a test run (CI's too) is repeatable; set
    // `PROPTEST_RNG_SEED` to search elsewhere.
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(SEED);
    }
    // A failure prints its shrunk input; the fix gets a unit test beside the code rather
    // than a seed file here.
    config.failure_persistence = None;
    config
}

const FORMATS: [Format; 6] = [
    Format::Text,
    Format::Markdown,
    Format::Html,
    Format::Python,
    Format::Notebook,
    Format::Rst,
];

fn document(text: &str, format: Format) -> Document {
    let path = match format {
        Format::Text => "doc.txt",
        Format::Markdown => "doc.md",
        Format::Html => "doc.html",
        Format::Python => "pkg/doc.py",
        Format::Notebook => "doc.ipynb",
        Format::Rst => "doc.rst",
    };
    Document {
        path: path.into(),
        text: text.into(),
        format,
    }
}

/// The document's lines, as an editor numbers them (a final newline starts no line).
fn lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n')
        .map(|l| l.strip_suffix('\n').unwrap_or(l))
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect()
}

/// What extraction found in a document.
struct Found {
    snippets: Vec<Snippet>,
    references: Vec<ReferenceCandidate>,
}

/// Extracts `doc`'s snippets and references and checks what holds for any input: spans
/// inside the document, unique ids, the document's path on every snippet.
fn extract_checked(doc: &Document, context: &ReferenceContext) -> Result<Found, TestCaseError> {
    let extraction = extract(doc);
    let references = extract_references(doc, &extraction.snippets, context);
    let lines = lines(&doc.text);
    let count = u32::try_from(lines.len()).unwrap_or(u32::MAX);
    let inside = |line: u32| (1..=count).contains(&line);
    let mut ids = std::collections::HashSet::new();
    for s in &extraction.snippets {
        prop_assert!(
            inside(s.line) && inside(s.end_line) && s.line <= s.end_line,
            "snippet {} spans {}-{} in a document of {count} lines",
            s.id,
            s.line,
            s.end_line
        );
        if let Some(output) = &s.expected_output {
            prop_assert!(
                inside(output.line),
                "expected output of {} at line {} of {count}",
                s.id,
                output.line
            );
        }
        prop_assert_eq!(&s.path, &doc.path);
        prop_assert!(!s.id.is_empty());
        prop_assert!(ids.insert(s.id.clone()), "duplicate snippet id {}", s.id);
    }
    for d in &extraction.diagnostics {
        if let Some(line) = d.line {
            // An empty document's problem is on its line 1.
            prop_assert!(
                (1..=count.max(1)).contains(&line),
                "diagnostic at line {line} of {count}: {d:?}"
            );
        }
    }
    let mut ids = std::collections::HashSet::new();
    for r in &references {
        prop_assert!(inside(r.line), "reference {r:?} outside {count} lines");
        let line = lines[r.line as usize - 1];
        let chars = line.chars().count();
        prop_assert!(
            r.column >= 1 && (r.column as usize) <= chars,
            "reference {:?} at column {} of a line of {chars} characters",
            r.text,
            r.column
        );
        // The name is written where the reference says (in Markdown, with backslash
        // escapes, up to the first entity).
        let at: String = line.chars().skip(r.column as usize - 1).collect();
        let plain: String = r
            .text
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
            .collect();
        let escaped = unescape(&at).starts_with(&plain) || at.starts_with('&');
        prop_assert!(
            at.starts_with(&r.text) || (doc.format == Format::Markdown && escaped),
            "reference {:?} placed at {}:{} where the line reads {at:?}",
            r.text,
            r.line,
            r.column
        );
        // Examples are not prose.
        for s in &extraction.snippets {
            prop_assert!(
                !(s.line..=s.end_line).contains(&r.line) || doc.format == Format::Notebook,
                "reference {:?} at line {} is inside snippet {} ({}-{})",
                r.text,
                r.line,
                s.id,
                s.line,
                s.end_line
            );
        }
        prop_assert!(ids.insert(r.id.clone()), "duplicate reference id {}", r.id);
    }
    Ok(Found {
        snippets: extraction.snippets,
        references,
    })
}

/// Markdown text without its backslash escapes.
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' || !chars.peek().is_some_and(char::is_ascii_punctuation) {
            out.push(c);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Unstructured input: arbitrary text, and soups of each format's syntax.

/// Pieces of syntax every format shares: line endings, indentation, prompts, Unicode.
#[rustfmt::skip]
const COMMON: &[&str] = &[
    "\n", "\n", "\n", "\n\n", "\r\n", "\r", " ", "  ", "    ", "\t", ">>> ", "... ", ">>>",
    "x = 1", "print(x)", "import os", "def f(a):", "    return a", "class C:", "#> 1", "#", "(",
    ")", "[", "]", "{", "}", ":", "::", ".", ",", "\\", "\"", "'", "`", "é", "日本語", "😀",
    "\u{2019}", "\u{a0}", "\u{feff}", "\u{0}", "snipcheck: skip", "snipcheck: ignore-reference",
    "scikit-learn provides a SimpleImputer class.", "the nn.RNN module in PyTorch", "np.array",
    "mean_squared_error", "`json.loads`", "`PUT`", "Q3. How do you do it?", "Step 2: Usage",
];

#[rustfmt::skip]
const MARKDOWN: &[&str] = &[
    "```", "```", "````", "~~~", "```python\n", "```py\n", "```pycon\n", "```output\n",
    "```text title=\"Output\"\n", "```python skip\n", "```python timeout=soon\n", "```bash\n",
    "# ", "## ", "Title\n=====\n", "---\n", "> ", "- ", "1. ", "* ", "<!-- snipcheck: skip -->\n",
    "<!-- snipcheck: xfail -->", "<!-- snipcheck: bogus -->\n", "<!--", "-->", "<div>", "</div>",
    "\\_", "\\`", "``", "&amp;", "[link](http://x.y/z)", "---\ntitle: x\n---\n",
    "| a | b |\n|---|---|\n", "snake\\_case",
];

#[rustfmt::skip]
const TEXT: &[&str] = &[
    "For example,\n", "Output:\n", "Q1. Why?\n", "- bullet\n", "\u{2022} item\n", "if x:\n",
    "    y = 2\n", "for i in range(3):\n", "print(\"\"\"\n", "\"\"\"\n", "x = [\n", "]\n",
    "y = x \\\n", "@decorator\n", "return\n", "pass\n", "from a import b\n", "lambda: 0\n",
    "async def g():\n", "    await h()\n", "with open(p) as f:\n",
];

#[rustfmt::skip]
const RST: &[&str] = &[
    ".. code-block:: python\n", ".. code-block:: pycon\n", ".. code:: bash\n", ".. sourcecode::\n",
    ".. doctest::\n", ".. doctest:: group\n", ".. testcode::\n", ".. testoutput::\n",
    ".. testsetup:: *\n", ".. testcleanup::\n", ".. highlight:: python\n", ".. highlight:: none\n",
    ".. note::\n", ".. snipcheck: skip\n", ".. snipcheck: bogus\n", ".. _target:\n",
    ".. comment\n", "   :options: +ELLIPSIS\n", "   :skipif: True\n", "   :pyversion: > 3\n",
    "   :caption: x\n", "   :", "=====\n", "-----\n", "~~\n", "Example::\n", "::\n", "   ",
    "      ", "Title\n=====\n", "=====\nTitle\n=====\n",
];

#[rustfmt::skip]
const HTML: &[&str] = &[
    "<pre>", "</pre>", "<pre class=\"output\">", "<pre class=\"python\">",
    "<pre class=\"highlight\">", "<code>", "</code>", "<code class=\"language-python\">",
    "<code class=\"language-bash\">", "<code class=\"pycon\">", "<code data-lang=\"py\">",
    "<div class=\"highlight-python\">", "<div class=\"sourceCode python\">", "<div>", "</div>",
    "<span class=\"n\">", "</span>", "<br>", "<br/>", "<h2>", "</h2>", "<h1 id=\"x\">", "</h1>",
    "<p>", "</p>", "<!--", "-->", "<!-- snipcheck: skip -->", "<!-- snipcheck: bogus -->",
    "<script>", "</script>", "<textarea>", "</textarea>", "<style>", "</style>", "<plaintext>",
    "<title>", "</title>", "&amp;", "&lt;", "&gt;", "&gt;&gt;&gt; ", "&#10;", "&#x0A;", "&#13;",
    "&nbsp;", "&#0;", "&#xD800;", "&bogus;", "&", "<!DOCTYPE html>", "<![CDATA[", "]]>", "<", ">",
    "\"", "='", "\u{c}",
];

#[rustfmt::skip]
const PYTHON: &[&str] = &[
    "\"\"\"", "\"\"\"", "'''", "r\"\"\"", "u'''", "b\"\"\"", "f'''", "rb'", "\"", "'",
    "def f():\n", "def g(x):\n", "async def h():\n", "class C:\n", "class D(C):\n", "    ",
    "        ", "\t", "if True:\n", "@property\n", "\\", "\\\n", "\\\r\n", "\\n", "\\t", "\\\\",
    "\\'", "\\\"", "\\x0a", "\\x0A", "\\x4", "\\012", "\\12", "\\0", "\\777", "\\u000a", "\\u00e9",
    "\\U0000000a", "\\U0010ffff", "\\U00110000", "\\N{BULLET}", "\\r", "\\r\\n", "\\a", "\\q",
    ">>> ", "... ", "    >>> 1 + 1\n    2\n", "# comment\n", "(", ")", "pass\n", "return 1\n",
];

#[rustfmt::skip]
const NOTEBOOK: &[&str] = &[
    "{", "}", "[", "]", ",", ":", "\"", "\"cells\"", "\"cell_type\"", "\"code\"", "\"markdown\"",
    "\"raw\"", "\"source\"", "\"metadata\"", "\"tags\"", "\"skip-execution\"", "\"nbformat\"", "4",
    "3", "null", "true", "\"kernelspec\"", "\"language\"", "\"python\"", "\"julia\"",
    "\"language_info\"", "\"name\"", "\"outputs\"", "\"x = 1\\n\"", "\"%%bash\\n\"",
    "\"%time x\\n\"", "\"!pip install x\\n\"", "\">>> 1 + 1\\n\"", "\"2\\n\"",
    "\"# NBVAL_SKIP\\n\"", "\"# Title\\n\"", "\"\\n\"", "\\n", "\\r", "\\t", "\\\"", "\\\\",
    "\\u00e9", "\\ud83d\\ude00", "\\ud800", "\\u0000", "\"é\"",
];

fn fragments(format: Format) -> &'static [&'static str] {
    match format {
        Format::Text => TEXT,
        Format::Markdown => MARKDOWN,
        Format::Html => HTML,
        Format::Python => PYTHON,
        Format::Notebook => NOTEBOOK,
        Format::Rst => RST,
    }
}

fn format_strategy() -> impl Strategy<Value = Format> {
    prop::sample::select(&FORMATS[..])
}

/// A string of the format's syntax, shared syntax and arbitrary characters.
fn soup(format: Format) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => prop::sample::select(fragments(format)).prop_map(String::from),
        3 => prop::sample::select(COMMON).prop_map(String::from),
        1 => any::<char>().prop_map(String::from),
        1 => "[a-zA-Z_ ]{1,12}",
    ];
    prop::collection::vec(piece, 0..80).prop_map(|pieces| pieces.concat())
}

/// Random edits to a document: characters deleted, pieces of syntax inserted, lines
/// duplicated, the document cut short.
#[derive(Debug, Clone)]
enum Edit {
    Delete(Index, usize),
    Insert(Index, String),
    DuplicateLine(Index),
    Truncate(Index),
}

fn edits(format: Format) -> impl Strategy<Value = Vec<Edit>> {
    let piece = prop_oneof![
        prop::sample::select(fragments(format)).prop_map(String::from),
        prop::sample::select(COMMON).prop_map(String::from),
        any::<char>().prop_map(String::from),
    ];
    let edit = prop_oneof![
        3 => (any::<Index>(), 1..12usize).prop_map(|(i, n)| Edit::Delete(i, n)),
        4 => (any::<Index>(), piece).prop_map(|(i, s)| Edit::Insert(i, s)),
        1 => any::<Index>().prop_map(Edit::DuplicateLine),
        1 => any::<Index>().prop_map(Edit::Truncate),
    ];
    prop::collection::vec(edit, 1..6)
}

/// Byte offset of a character boundary chosen by `at` (the end included).
fn boundary(text: &str, at: &Index) -> usize {
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    bounds[at.index(bounds.len())]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut text = text.to_string();
    for edit in edits {
        match edit {
            Edit::Delete(at, n) => {
                let start = boundary(&text, at);
                let end = text[start..]
                    .char_indices()
                    .nth(*n)
                    .map_or(text.len(), |(i, _)| start + i);
                text.replace_range(start..end, "");
            }
            Edit::Insert(at, piece) => {
                let at = boundary(&text, at);
                text.insert_str(at, piece);
            }
            Edit::DuplicateLine(at) => {
                let lines: Vec<&str> = text.split_inclusive('\n').collect();
                if !lines.is_empty() {
                    let k = at.index(lines.len());
                    let mut out: Vec<&str> = lines[..=k].to_vec();
                    out.extend(&lines[k..]);
                    text = out.concat();
                }
            }
            Edit::Truncate(at) => {
                let at = boundary(&text, at);
                text.truncate(at);
            }
        }
    }
    text
}

// ---------------------------------------------------------------------------------------
// Structured documents: sections of prose, examples and sessions, written in each format.

#[derive(Debug, Clone)]
enum Block {
    /// A sentence of prose.
    Prose(String),
    /// A Python example, as source lines; `style` picks how the format writes it.
    Code(Vec<String>, u8),
    /// A `>>>` session: (source, output) pairs.
    Session(Vec<(String, String)>, u8),
    /// An example in another language.
    Other(Vec<String>),
}

#[derive(Debug, Clone)]
struct Section {
    heading: String,
    blocks: Vec<Block>,
}

/// Words that start headings: distinct, so that no two sections share an id base.
#[rustfmt::skip]
const TAGS: &[&str] = &[
    "Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliett",
    "Kilo", "Lima", "Mike", "November", "Oscar", "Papa", "Quebec", "Romeo", "Sierra", "Tango",
    "Uniform", "Victor", "Whiskey", "Xray", "Yankee", "Zulu",
];

#[rustfmt::skip]
const HEADING_WORDS: &[&str] = &[
    "load", "the", "data", "train", "model", "evaluate", "results", "caf\u{e9}", "plot", "clean",
    "features", "of", "a", "using", "tokens", "model\u{2019}s", "API", "v2",
];

/// Sentences that read as prose in every format; some mention library names.
const SENTENCES: &[&str] = &[
    "This step reads the file and keeps the rows we need.",
    "The result is a list of numbers, sorted in place.",
    "Each value is checked before it is stored.",
    "scikit-learn provides a SimpleImputer class for missing values.",
    "The nn.RNN module in PyTorch runs the sequence model.",
    "Compute the error with mean_squared_error from the metrics.",
    "Use np.array to build the matrix, then reshape it.",
    "Numbers like 3.14 and names like e.g. foo are not API names.",
    "Caf\u{e9} au lait \u{2014} a sentence with non-ASCII text \u{1f600}.",
    "Write to info@example.com or see https://example.com/docs for more.",
];

/// Statements, some spanning lines (an indented body).
const STATEMENTS: &[&str] = &[
    "import os",
    "import json",
    "from collections import Counter",
    "x = 1",
    "values = [1, 2, 3]",
    "total = sum(values)",
    "print(total)",
    "name = \"caf\u{e9} \u{1f600}\"",
    "ok = 1 < 2 and 3 > 2",
    "text = 'a & b'",
    "counts = Counter('abca')",
    "def area(w, h):\n    return w * h",
    "class Point:\n    x = 0\n    y = 0",
    "for v in values:\n    print(v)",
    "if total > 3:\n    print('big')",
    "data = {\n    'a': 1,\n    'b': 2,\n}",
];

const SESSION_LINES: &[(&str, &str)] = &[
    ("1 + 1", "2"),
    ("x = 2", ""),
    ("print('hi')", "hi"),
    ("len([1, 2, 3])", "3"),
    ("sorted({3, 1, 2})", "[1, 2, 3]"),
];

fn heading_strategy() -> impl Strategy<Value = Vec<&'static str>> {
    prop::collection::vec(prop::sample::select(HEADING_WORDS), 1..4)
}

fn block_strategy() -> impl Strategy<Value = Block> {
    let code = prop::collection::vec(prop::sample::select(STATEMENTS), 1..4).prop_map(|s| {
        s.iter()
            .flat_map(|s| s.split('\n'))
            .map(String::from)
            .collect()
    });
    let session = prop::collection::vec(prop::sample::select(SESSION_LINES), 1..4).prop_map(|s| {
        s.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    });
    prop_oneof![
        3 => prop::sample::select(SENTENCES).prop_map(|s| Block::Prose(s.into())),
        4 => (code, any::<u8>()).prop_map(|(c, style)| Block::Code(c, style)),
        2 => (session, any::<u8>()).prop_map(|(s, style)| Block::Session(s, style)),
        1 => prop::sample::select(&["ls -la", "echo done", "cat a.txt | wc -l"][..])
            .prop_map(|s| Block::Other(vec![s.to_string()])),
    ]
}

/// Sections whose headings start with distinct tags.
fn sections_strategy() -> impl Strategy<Value = Vec<Section>> {
    prop::collection::vec(
        (
            heading_strategy(),
            prop::collection::vec(block_strategy(), 0..5),
        ),
        1..6,
    )
    .prop_map(|sections| {
        sections
            .into_iter()
            .enumerate()
            .map(|(k, (words, blocks))| Section {
                heading: tagged(TAGS[k], &words),
                blocks,
            })
            .collect()
    })
}

fn tagged(tag: &str, words: &[&str]) -> String {
    let mut heading = tag.to_string();
    for w in words {
        heading.push(' ');
        heading.push_str(w);
    }
    heading
}

/// A document written in one format.
struct Written {
    text: String,
    format: Format,
}

fn write(sections: &[Section], format: Format) -> Written {
    let text = match format {
        Format::Text => write_text(sections),
        Format::Markdown => write_markdown(sections),
        Format::Rst => write_rst(sections),
        Format::Html => write_html(sections),
        Format::Notebook => write_notebook(sections),
        Format::Python => write_python(sections),
    };
    Written { text, format }
}

/// A line of code as the format writes it.
fn escape(line: &str, format: Format) -> String {
    match format {
        Format::Html => html_escape(line),
        Format::Notebook => {
            let json = serde_json::to_string(line).unwrap();
            json[1..json.len() - 1].to_string()
        }
        _ => line.to_string(),
    }
}

fn session_lines(pairs: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (source, output) in pairs {
        out.push(format!(">>> {source}"));
        if !output.is_empty() {
            out.push(output.clone());
        }
    }
    out
}

fn indented(lines: &[String], by: &str) -> String {
    lines
        .iter()
        .map(|l| format!("{by}{l}\n"))
        .collect::<String>()
}

fn write_text(sections: &[Section]) -> String {
    let mut out = String::from("An introduction that is a sentence.\n\n");
    for s in sections {
        out.push_str(&s.heading);
        out.push_str("\n\n");
        for b in &s.blocks {
            match b {
                Block::Prose(p) => out.push_str(&format!("{p}\n")),
                Block::Code(lines, style) => {
                    out.push_str(&indented(lines, ["", "  "][*style as usize % 2]))
                }
                Block::Session(pairs, _) => out.push_str(&indented(&session_lines(pairs), "")),
                Block::Other(lines) => out.push_str(&format!("Run {} in a shell.\n", lines[0])),
            }
            out.push('\n');
        }
    }
    out
}

fn write_markdown(sections: &[Section]) -> String {
    let mut out = String::from("---\ntitle: Generated\n---\n\nAn introduction.\n\n");
    for (k, s) in sections.iter().enumerate() {
        if k.is_multiple_of(2) {
            out.push_str(&format!("## {}\n\n", s.heading));
        } else {
            let rule = "-".repeat(s.heading.chars().count());
            out.push_str(&format!("{}\n{rule}\n\n", s.heading));
        }
        for b in &s.blocks {
            match b {
                Block::Prose(p) => out.push_str(&format!("{p}\n")),
                Block::Code(lines, style) => {
                    let (open, close, prefix) = match style % 5 {
                        0 => ("```python", "```", ""),
                        1 => ("~~~py", "~~~", ""),
                        2 => ("````python3 title=\"a.py\"", "````", ""),
                        3 => ("- item\n\n  ```python", "  ```", "  "),
                        _ => ("> ```py", "> ```", "> "),
                    };
                    out.push_str(&format!("{open}\n{}{close}\n", indented(lines, prefix)));
                    if style.is_multiple_of(7) {
                        out.push_str("\n```output\nsomething\n```\n");
                    }
                }
                Block::Session(pairs, style) => {
                    let open = ["```pycon", "```python"][*style as usize % 2];
                    out.push_str(&format!(
                        "{open}\n{}```\n",
                        indented(&session_lines(pairs), "")
                    ));
                }
                Block::Other(lines) => {
                    out.push_str(&format!("```bash\n{}```\n", indented(lines, "")))
                }
            }
            out.push('\n');
        }
    }
    out
}

fn write_rst(sections: &[Section]) -> String {
    let mut out = String::from("=========\nGenerated\n=========\n\nAn introduction.\n\n");
    for s in sections {
        let rule = "-".repeat(s.heading.chars().count());
        out.push_str(&format!("{}\n{rule}\n\n", s.heading));
        for b in &s.blocks {
            match b {
                Block::Prose(p) => out.push_str(&format!("{p}\n")),
                Block::Code(lines, style) => {
                    let head = match style % 5 {
                        0 => ".. code-block:: python\n   :caption: example\n",
                        1 => ".. code:: py\n",
                        2 => ".. sourcecode:: python3\n",
                        3 => ".. testcode::\n",
                        _ => "For example::\n",
                    };
                    out.push_str(&format!("{head}\n{}", indented(lines, "   ")));
                }
                Block::Session(pairs, style) => {
                    let body = session_lines(pairs);
                    match style % 3 {
                        0 => out.push_str(&indented(&body, "")),
                        1 => out.push_str(&format!(".. doctest::\n\n{}", indented(&body, "   "))),
                        _ => out.push_str(&format!(
                            ".. code-block:: pycon\n\n{}",
                            indented(&body, "    ")
                        )),
                    }
                }
                Block::Other(lines) => out.push_str(&format!(
                    ".. code-block:: bash\n\n{}",
                    indented(lines, "   ")
                )),
            }
            out.push('\n');
        }
    }
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn write_html(sections: &[Section]) -> String {
    let mut out = String::from("<!DOCTYPE html>\n<html>\n<head><title>Generated</title></head>\n");
    out.push_str("<body>\n<p>An introduction.</p>\n");
    for s in sections {
        out.push_str(&format!(
            "<h2 id=\"s\">{}<a href=\"#s\">\u{b6}</a></h2>\n",
            html_escape(&s.heading)
        ));
        for b in &s.blocks {
            match b {
                Block::Prose(p) => out.push_str(&format!("<p>{}</p>\n", html_escape(p))),
                Block::Code(lines, style) => {
                    let body: String = lines
                        .iter()
                        .map(|l| match style % 4 {
                            // A highlighter's spans around each line.
                            3 => format!("<span class=\"n\">{}</span>\n", html_escape(l)),
                            _ => format!("{}\n", html_escape(l)),
                        })
                        .collect();
                    out.push_str(&match style % 4 {
                        0 => format!("<pre><code class=\"language-python\">{body}</code></pre>\n"),
                        1 => format!(
                            "<div class=\"highlight-python notranslate\"><div class=\"highlight\">\
                             <pre>\n{body}</pre></div></div>\n"
                        ),
                        2 => format!("<pre class=\"python\">{body}</pre>\n"),
                        _ => format!("<div class=\"sourceCode python\"><pre>{body}</pre></div>\n"),
                    });
                }
                Block::Session(pairs, style) => {
                    let body: String = session_lines(pairs)
                        .iter()
                        .map(|l| format!("{}\n", html_escape(l)))
                        .collect();
                    out.push_str(&match style % 2 {
                        0 => format!("<pre>{body}</pre>\n"),
                        _ => format!("<pre><code class=\"language-pycon\">{body}</code></pre>\n"),
                    });
                }
                Block::Other(lines) => out.push_str(&format!(
                    "<pre><code class=\"language-bash\">{}</code></pre>\n",
                    html_escape(&lines.join("\n"))
                )),
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// Jupyter's layout: one source line per file line.
fn write_notebook(sections: &[Section]) -> String {
    fn source(lines: &[String]) -> serde_json::Value {
        let n = lines.len();
        lines
            .iter()
            .enumerate()
            .map(|(k, l)| {
                if k + 1 < n {
                    format!("{l}\n")
                } else {
                    l.clone()
                }
            })
            .collect()
    }
    let mut cells = Vec::new();
    for s in sections {
        let mut markdown = vec![format!("## {}", s.heading), String::new()];
        let flush = |markdown: &mut Vec<String>, cells: &mut Vec<serde_json::Value>| {
            if !markdown.is_empty() {
                cells.push(serde_json::json!({
                    "cell_type": "markdown",
                    "metadata": {},
                    "source": source(markdown),
                }));
                markdown.clear();
            }
        };
        for b in &s.blocks {
            let code = match b {
                Block::Prose(p) => {
                    markdown.push(p.clone());
                    continue;
                }
                Block::Code(lines, _) => lines.clone(),
                Block::Session(pairs, _) => session_lines(pairs),
                Block::Other(lines) => {
                    flush(&mut markdown, &mut cells);
                    cells.push(serde_json::json!({
                        "cell_type": "raw",
                        "metadata": {},
                        "source": source(lines),
                    }));
                    continue;
                }
            };
            flush(&mut markdown, &mut cells);
            let tags: Vec<&str> = match b {
                Block::Code(_, style) if style.is_multiple_of(5) => vec!["skip-execution"],
                _ => vec![],
            };
            cells.push(serde_json::json!({
                "cell_type": "code",
                "execution_count": null,
                "metadata": {"tags": tags},
                "outputs": [],
                "source": source(&code),
            }));
        }
        flush(&mut markdown, &mut cells);
    }
    let notebook = serde_json::json!({
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    });
    serde_json::to_string_pretty(&notebook).unwrap() + "\n"
}

/// The identifier a section's function is named: its heading's ASCII words.
fn function_name(heading: &str) -> String {
    heading
        .split(' ')
        .map(|w| {
            w.chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("_")
        .to_ascii_lowercase()
}

/// Each section a function (or a class with a method) whose docstring holds its prose
/// and, as `>>>` sessions, its examples.
fn write_python(sections: &[Section]) -> String {
    let mut out = String::from("\"\"\"A generated module.\"\"\"\n\nimport os\n\n");
    for s in sections {
        let name = function_name(&s.heading);
        let (header, indent) = if is_class(s) {
            (
                format!("class {name}:\n    x = 1\n\n    def method(self):\n"),
                "        ",
            )
        } else {
            (format!("def {name}(a, b=1):\n"), "    ")
        };
        out.push_str(&header);
        out.push_str(&format!("{indent}\"\"\"Summary line.\n\n"));
        for b in &s.blocks {
            let lines = match b {
                Block::Prose(p) => vec![p.clone()],
                Block::Code(lines, _) => lines
                    .iter()
                    .map(|l| {
                        if l.starts_with(' ') || l == "}" {
                            format!("... {l}")
                        } else {
                            format!(">>> {l}")
                        }
                    })
                    .chain([String::from("...")])
                    .collect(),
                Block::Session(pairs, _) => session_lines(pairs),
                Block::Other(lines) => lines.iter().map(|l| format!("$ {l}")).collect(),
            };
            for l in lines {
                out.push_str(&format!("{indent}{l}\n"));
            }
            out.push('\n');
        }
        out.push_str(&format!("{indent}\"\"\"\n{indent}return None\n\n\n"));
    }
    out
}

/// Whether the Python module documents the section as a class's method (else as a
/// function): decided by the section itself, so that edits elsewhere do not change it.
fn is_class(section: &Section) -> bool {
    section.heading.len().is_multiple_of(3)
}

/// The section each snippet's heading names, as the format writes it for that section.
fn section_key(section: &Section, format: Format) -> String {
    match format {
        Format::Python if is_class(section) => {
            format!("{}.method", function_name(&section.heading))
        }
        Format::Python => function_name(&section.heading),
        _ => section.heading.clone(),
    }
}

/// (id, code) of the snippets of each section, by the section's heading.
fn by_section(snippets: &[Snippet]) -> BTreeMap<String, Vec<(String, String)>> {
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for s in snippets {
        out.entry(s.section.clone().unwrap_or_default())
            .or_default()
            .push((s.id.clone(), s.code.clone()));
    }
    out
}

/// The first and last lines of each snippet's span are where its first and last lines
/// of code are written.
fn spans_match_code(written: &Written, snippets: &[Snippet]) -> Result<(), TestCaseError> {
    let lines = lines(&written.text);
    for s in snippets {
        let code: Vec<&str> = s.code.lines().filter(|l| !l.trim().is_empty()).collect();
        let (Some(first), Some(last)) = (code.first(), code.last()) else {
            prop_assert!(false, "snippet {} has no code", s.id);
            unreachable!()
        };
        for (line, want) in [(s.line, first), (s.end_line, last)] {
            let written_line = lines[line as usize - 1];
            let want = escape(want.trim(), written.format);
            prop_assert!(
                written_line.contains(&want),
                "{}: line {line} reads {written_line:?}, not {want:?}\n{}",
                s.id,
                written.text
            );
        }
    }
    Ok(())
}

/// An edit to one section (or a new section) that leaves every other section alone.
#[derive(Debug, Clone)]
enum SectionEdit {
    InsertBlock(Index, Index, Block),
    ReplaceBlock(Index, Index, Block),
    RemoveBlock(Index, Index),
    InsertSection(Index, Vec<&'static str>, Vec<Block>),
    RemoveSection(Index),
}

fn section_edit() -> impl Strategy<Value = SectionEdit> {
    prop_oneof![
        (any::<Index>(), any::<Index>(), block_strategy())
            .prop_map(|(s, b, block)| SectionEdit::InsertBlock(s, b, block)),
        (any::<Index>(), any::<Index>(), block_strategy())
            .prop_map(|(s, b, block)| SectionEdit::ReplaceBlock(s, b, block)),
        (any::<Index>(), any::<Index>()).prop_map(|(s, b)| SectionEdit::RemoveBlock(s, b)),
        (
            any::<Index>(),
            heading_strategy(),
            prop::collection::vec(block_strategy(), 0..4)
        )
            .prop_map(|(s, words, blocks)| SectionEdit::InsertSection(s, words, blocks)),
        any::<Index>().prop_map(SectionEdit::RemoveSection),
    ]
}

/// Applies the edit; returns the edited sections and the heading of the section it
/// touched (which may keep none of its ids).
fn edit_sections(sections: &[Section], edit: &SectionEdit) -> (Vec<Section>, String) {
    let mut out = sections.to_vec();
    let n = out.len();
    match edit {
        SectionEdit::InsertBlock(s, b, block) => {
            let s = &mut out[s.index(n)];
            let at = b.index(s.blocks.len() + 1);
            s.blocks.insert(at, block.clone());
            let h = s.heading.clone();
            (out, h)
        }
        SectionEdit::ReplaceBlock(s, _, block) if out[s.index(n)].blocks.is_empty() => {
            let s = &mut out[s.index(n)];
            s.blocks.push(block.clone());
            let h = s.heading.clone();
            (out, h)
        }
        SectionEdit::ReplaceBlock(s, b, block) => {
            let s = &mut out[s.index(n)];
            let at = b.index(s.blocks.len());
            s.blocks[at] = block.clone();
            let h = s.heading.clone();
            (out, h)
        }
        SectionEdit::RemoveBlock(s, b) => {
            let s = &mut out[s.index(n)];
            if !s.blocks.is_empty() {
                let at = b.index(s.blocks.len());
                s.blocks.remove(at);
            }
            let h = s.heading.clone();
            (out, h)
        }
        SectionEdit::InsertSection(s, words, blocks) => {
            // A tag no other section has.
            let heading = tagged(TAGS[TAGS.len() - 1], words);
            let at = s.index(n + 1);
            out.insert(
                at,
                Section {
                    heading: heading.clone(),
                    blocks: blocks.clone(),
                },
            );
            (out, heading)
        }
        SectionEdit::RemoveSection(s) => {
            let removed = out.remove(s.index(n));
            (out, removed.heading)
        }
    }
}

// ---------------------------------------------------------------------------------------
// The properties.

proptest! {
    #![proptest_config(config())]

    /// Any string, read as any format.
    #[test]
    fn arbitrary_text_is_read_safely(text in any::<String>(), format in format_strategy()) {
        extract_checked(&document(&text, format), &ReferenceContext::default())?;
    }

    /// Soups of each format's syntax.
    #[test]
    fn syntax_soup_is_read_safely(
        (format, text) in format_strategy().prop_flat_map(|f| (Just(f), soup(f)))
    ) {
        extract_checked(&document(&text, format), &ReferenceContext::default())?;
    }

    /// Generated documents, mangled by random edits.
    #[test]
    fn near_valid_documents_are_read_safely(
        sections in sections_strategy(),
        (format, edits) in format_strategy().prop_flat_map(|f| (Just(f), edits(f))),
    ) {
        let written = write(&sections, format);
        let text = apply(&written.text, &edits);
        extract_checked(&document(&text, format), &ReferenceContext::default())?;
    }

    /// Generated documents as written: spans are where the code is, every section's
    /// examples are found under its heading.
    #[test]
    fn generated_documents_have_exact_spans(
        sections in sections_strategy(),
        format in format_strategy(),
    ) {
        let written = write(&sections, format);
        let doc = document(&written.text, format);
        let found = extract_checked(&doc, &ReferenceContext::default())?;
        spans_match_code(&written, &found.snippets)?;
        let keys: Vec<String> = sections.iter().map(|s| section_key(s, format)).collect();
        for s in &found.snippets {
            let section = s.section.clone().unwrap_or_default();
            prop_assert!(
                keys.contains(&section),
                "snippet {} is under {section:?}, not a generated heading\n{}",
                s.id,
                written.text
            );
        }
        // Every code block of a section gives an example in the formats that take them all.
        if matches!(format, Format::Markdown | Format::Rst | Format::Notebook) {
            let want: usize = sections
                .iter()
                .flat_map(|s| &s.blocks)
                .filter(|b| matches!(b, Block::Code(..) | Block::Session(..)))
                .count();
            prop_assert_eq!(found.snippets.len(), want, "{}", written.text);
        }
    }

    /// Editing one section keeps the ids (and code) of every other section's snippets.
    #[test]
    fn ids_survive_edits_elsewhere(
        sections in sections_strategy(),
        edit in section_edit(),
        format in format_strategy(),
    ) {
        let (edited, touched) = edit_sections(&sections, &edit);
        let before_doc = write(&sections, format);
        let after_doc = write(&edited, format);
        let context = ReferenceContext::default();
        let before = extract_checked(&document(&before_doc.text, format), &context)?;
        let after = extract_checked(&document(&after_doc.text, format), &context)?;
        let before = by_section(&before.snippets);
        let after = by_section(&after.snippets);
        for (section, ids) in &before {
            if is_touched(section, &touched, format) {
                continue;
            }
            prop_assert_eq!(
                Some(ids),
                after.get(section),
                "section {:?} changed after {:?}\nbefore:\n{}\nafter:\n{}",
                section,
                edit,
                before_doc.text,
                after_doc.text
            );
        }
        for section in after.keys() {
            prop_assert!(
                before.contains_key(section) || is_touched(section, &touched, format),
                "new section {section:?} after {edit:?}"
            );
        }
    }

    /// References in generated prose: inside the document, ids unchanged by a sentence
    /// without names added elsewhere.
    #[test]
    fn reference_ids_survive_plain_prose(
        sections in sections_strategy(),
        at in any::<Index>(),
        format in prop::sample::select(&[Format::Text, Format::Markdown, Format::Rst][..]),
        context in reference_context(),
    ) {
        let written = write(&sections, format);
        let before = extract_checked(&document(&written.text, format), &context)?;
        let mut edited = sections.clone();
        let n = edited.len();
        edited[at.index(n)]
            .blocks
            .insert(0, Block::Prose("Nothing here is named at all.".into()));
        let rewritten = write(&edited, format);
        let after = extract_checked(&document(&rewritten.text, format), &context)?;
        let ids = |found: &Found| -> Vec<(String, String)> {
            found.references.iter().map(|r| (r.id.clone(), r.name.clone())).collect()
        };
        prop_assert_eq!(ids(&before), ids(&after));
    }
}

/// Whether `section` (a snippet's section as extracted) is the one an edit touched.
fn is_touched(section: &str, touched: &str, format: Format) -> bool {
    match format {
        Format::Python => section
            .strip_suffix(".method")
            .unwrap_or(section)
            .eq(&function_name(touched)),
        _ => section == touched,
    }
}

fn reference_context() -> impl Strategy<Value = ReferenceContext> {
    let library = prop_oneof![
        Just(("My Lib".to_string(), "mylib".to_string())),
        Just(("Caf\u{e9}".to_string(), "cafe".to_string())),
        Just((String::new(), String::new())),
        ("[A-Za-z .-]{0,8}", "[a-z_.]{0,8}"),
    ];
    let alias = prop_oneof![
        Just(("nn".to_string(), "torch.nn".to_string())),
        Just(("data".to_string(), "mylib.data".to_string())),
        ("[a-z.]{0,4}", "[a-z_.]{0,8}"),
    ];
    (
        prop::collection::vec(library, 0..3),
        prop::collection::vec(alias, 0..3),
    )
        .prop_map(|(libraries, aliases)| ReferenceContext { libraries, aliases })
}

//! Markers: how a snippet is to be run, written where the rendered document does not show
//! it (an HTML comment or a reST comment before the block, words in a fence's info string,
//! an entry in the config).
//!
//! Every form goes through [`Markers::set`], so a marker means the same wherever it is
//! written and a bad one gets the same message. Unknown markers are errors: a typo must
//! not silently run a snippet that was meant to be skipped.

use snipcheck_record::{Category, Diagnostic, Expectation, Severity, Skip, Snippet};

/// What `<!-- snipcheck: ... -->` comments hold that is not a marker: left to the
/// reference checker.
const NOT_MARKERS: &[&str] = &["ignore-reference"];

/// The markers, as listed in error messages.
const KNOWN: &str =
    "skip, xfail, expect=CATEGORY, timeout=SECONDS, fixture=NAME, session=NAME, reason=TEXT";

/// The markers of one snippet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Markers {
    pub skip: Option<Skip>,
    pub xfail: Option<Expectation>,
    pub timeout: Option<f64>,
    pub fixtures: Vec<String>,
    pub session: Option<String>,
    /// Which marker a following `reason=` explains.
    last_with_reason: Option<Reasoned>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Reasoned {
    Skip,
    Xfail,
}

impl Markers {
    /// Parses marker words: `skip reason="needs a GPU" timeout=5 fixture=ml`.
    pub fn parse(words: &str) -> Result<Markers, String> {
        let mut markers = Markers::default();
        for (key, value) in tokens(words)? {
            markers.set(&key, value.as_deref())?;
        }
        Ok(markers)
    }

    /// Parses the words of a Markdown fence's info string after the language: the words
    /// that are markers count, any other word (`title="x.py"`, `{.numberLines}`) belongs
    /// to the renderer and is left alone.
    pub(crate) fn parse_info(words: &str) -> Result<Markers, String> {
        let mut markers = Markers::default();
        for (key, value) in tokens(words)? {
            if is_known(&key) {
                markers.set(&key, value.as_deref())?;
            }
        }
        Ok(markers)
    }

    /// Whether no marker is set.
    pub fn is_empty(&self) -> bool {
        self.skip.is_none()
            && self.xfail.is_none()
            && self.timeout.is_none()
            && self.fixtures.is_empty()
            && self.session.is_none()
    }

    /// Sets one marker: `key` alone (`skip`) or with its value (`timeout=5`).
    pub fn set(&mut self, key: &str, value: Option<&str>) -> Result<(), String> {
        let required = |what: &str| -> Result<String, String> {
            match value {
                Some(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
                _ => Err(format!("`{key}` needs a value: {key}={what}")),
            }
        };
        match key {
            "skip" => {
                self.skip = Some(Skip {
                    reason: value.map(str::to_string),
                });
                self.last_with_reason = Some(Reasoned::Skip);
            }
            "xfail" => {
                let xfail = self.xfail.get_or_insert_with(Expectation::default);
                if value.is_some() {
                    xfail.reason = value.map(str::to_string);
                }
                self.last_with_reason = Some(Reasoned::Xfail);
            }
            "expect" => {
                let category = category(&required("CATEGORY")?)?;
                self.xfail.get_or_insert_with(Expectation::default).category = Some(category);
                self.last_with_reason = Some(Reasoned::Xfail);
            }
            "reason" => {
                let reason = Some(required("TEXT")?);
                match self.last_with_reason {
                    Some(Reasoned::Skip) => {
                        if let Some(skip) = self.skip.as_mut() {
                            skip.reason = reason;
                        }
                    }
                    Some(Reasoned::Xfail) => {
                        if let Some(xfail) = self.xfail.as_mut() {
                            xfail.reason = reason;
                        }
                    }
                    None => {
                        return Err(
                            "`reason` explains a `skip`, `xfail` or `expect` written before it"
                                .into(),
                        )
                    }
                }
            }
            "timeout" => {
                let text = required("SECONDS")?;
                match text.parse::<f64>() {
                    Ok(seconds) if seconds.is_finite() && seconds > 0.0 => {
                        self.timeout = Some(seconds)
                    }
                    _ => {
                        return Err(format!(
                            "timeout={text}: the time limit is a number of seconds greater than 0"
                        ))
                    }
                }
            }
            "fixture" => {
                for name in required("NAME")?.split(',') {
                    let name = name.trim();
                    if name.is_empty() {
                        return Err("fixture=: an empty fixture name".into());
                    }
                    if !self.fixtures.iter().any(|f| f == name) {
                        self.fixtures.push(name.to_string());
                    }
                }
            }
            "session" => self.session = Some(required("NAME")?),
            _ => return Err(format!("unknown marker `{key}`; the markers are: {KNOWN}")),
        }
        Ok(())
    }

    /// Adds `other` on top of these markers: its values win, fixtures add up.
    pub fn merge(&mut self, other: Markers) {
        if other.skip.is_some() {
            self.skip = other.skip;
        }
        if other.xfail.is_some() {
            self.xfail = other.xfail;
        }
        if other.timeout.is_some() {
            self.timeout = other.timeout;
        }
        if other.session.is_some() {
            self.session = other.session;
        }
        for fixture in other.fixtures {
            if !self.fixtures.contains(&fixture) {
                self.fixtures.push(fixture);
            }
        }
    }

    /// Writes the markers into the snippet, on top of those it has (a session marker
    /// replaces the session the format gave it).
    pub fn apply(self, snippet: &mut Snippet) {
        let mut current = Markers {
            skip: snippet.skip.take(),
            xfail: snippet.xfail.take(),
            timeout: snippet.timeout.take(),
            fixtures: std::mem::take(&mut snippet.fixtures),
            session: snippet.session.take(),
            last_with_reason: None,
        };
        current.merge(self);
        snippet.skip = current.skip;
        snippet.xfail = current.xfail;
        snippet.timeout = current.timeout;
        snippet.fixtures = current.fixtures;
        snippet.session = current.session;
    }
}

fn is_known(key: &str) -> bool {
    matches!(
        key,
        "skip" | "xfail" | "expect" | "reason" | "timeout" | "fixture" | "session"
    )
}

/// A failure category by its record name. `passed` and `skipped` are not failures: a
/// snippet is expected to pass unless marked, and a skip is its own marker.
pub fn category(name: &str) -> Result<Category, String> {
    let failures = || {
        Category::ALL
            .iter()
            .filter(|c| !matches!(c, Category::Passed | Category::Skipped))
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match Category::ALL.iter().find(|c| c.as_str() == name) {
        Some(Category::Passed | Category::Skipped) | None => Err(format!(
            "expect={name}: not a failure category; one of {}",
            failures()
        )),
        Some(category) => Ok(*category),
    }
}

/// The marker text of a `<!-- snipcheck: ... -->` comment (`None` when `html` is not one,
/// or holds a directive for the reference checker). `Err` when the comment is not closed.
pub(crate) fn html_comment(html: &str) -> Option<Result<&str, String>> {
    let body = html.trim().strip_prefix("<!--")?;
    marker_words(body)?;
    let Some(end) = body.find("-->") else {
        return Some(Err("the snipcheck comment is not closed with `-->`".into()));
    };
    marker_words(&body[..end]).map(Ok)
}

/// The marker words of a comment's text (`snipcheck: skip`), `None` when it is not a
/// marker comment or holds a directive for the reference checker.
pub(crate) fn marker_words(comment: &str) -> Option<&str> {
    let words = comment.trim_start().strip_prefix("snipcheck:")?.trim();
    let first = words.split_whitespace().next().unwrap_or("");
    (!NOT_MARKERS.contains(&first)).then_some(words)
}

/// Marker comments read by a format's scanner, waiting for the block they stand before.
#[derive(Default)]
pub(crate) struct Waiting {
    path: String,
    /// The first comment's line, and the markers of every comment since.
    pending: Option<(u32, Markers)>,
}

impl Waiting {
    pub(crate) fn new(path: &str) -> Self {
        Waiting {
            path: path.to_string(),
            pending: None,
        }
    }

    /// A marker comment's words at `line`; a bad marker becomes an error diagnostic.
    pub(crate) fn comment(
        &mut self,
        line: u32,
        words: Result<&str, String>,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        match words.and_then(Markers::parse) {
            Ok(markers) => match self.pending.as_mut() {
                Some((_, pending)) => pending.merge(markers),
                None => self.pending = Some((line, markers)),
            },
            Err(message) => diagnostics.push(self.error(line, message)),
        }
    }

    /// The markers for the block that starts now.
    pub(crate) fn take(&mut self) -> Option<(u32, Markers)> {
        self.pending.take()
    }

    /// Something other than a code block comes next (or the document ends): the markers
    /// apply to nothing, which is an error rather than a silent no-op.
    pub(crate) fn interrupt(&mut self, diagnostics: &mut Vec<Diagnostic>) {
        if let Some((line, _)) = self.pending.take() {
            self.misplaced(line, diagnostics);
        }
    }

    /// Whether markers are waiting for a block.
    pub(crate) fn is_waiting(&self) -> bool {
        self.pending.is_some()
    }

    /// The markers taken at `line` stand before something that is not a code block.
    pub(crate) fn misplaced(&self, line: u32, diagnostics: &mut Vec<Diagnostic>) {
        diagnostics.push(
            self.error(
                line,
                "this snipcheck marker stands before no code block: put it right before the \
             block it is for"
                    .into(),
            ),
        );
    }

    /// The markers taken for a block that turned out not to be a Python example.
    pub(crate) fn unused(&self, line: u32, diagnostics: &mut Vec<Diagnostic>) {
        diagnostics.push(self.error(
            line,
            "this snipcheck marker stands before a block that is not a Python example".into(),
        ));
    }

    fn error(&self, line: u32, message: String) -> Diagnostic {
        Diagnostic {
            path: self.path.clone(),
            line: Some(line),
            severity: Severity::Error,
            message,
        }
    }
}

/// `key` or `key=value` words; values may be quoted with `"` or `'` (a backslash escapes
/// the quote).
fn tokens(text: &str) -> Result<Vec<(String, Option<String>)>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(out);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '=') {
            key.push(c);
        }
        if chars.next_if_eq(&'=').is_none() {
            out.push((key, None));
            continue;
        }
        let mut value = String::new();
        match chars.next_if(|c| *c == '"' || *c == '\'') {
            Some(quote) => loop {
                match chars.next() {
                    Some('\\') => value.extend(chars.next()),
                    Some(c) if c == quote => break,
                    Some(c) => value.push(c),
                    None => return Err(format!("{key}=: the quoted value is not closed")),
                }
            },
            None => {
                while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                    value.push(c);
                }
            }
        }
        out.push((key, Some(value)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expectation(category: Option<Category>, reason: Option<&str>) -> Option<Expectation> {
        Some(Expectation {
            category,
            reason: reason.map(str::to_string),
        })
    }

    #[test]
    fn every_marker() {
        let m = Markers::parse(
            "skip reason=\"needs a GPU\" timeout=60 fixture=ml session=setup expect=missing-name",
        )
        .unwrap();
        assert_eq!(
            m.skip,
            Some(Skip {
                reason: Some("needs a GPU".into())
            })
        );
        assert_eq!(m.timeout, Some(60.0));
        assert_eq!(m.fixtures, ["ml"]);
        assert_eq!(m.session.as_deref(), Some("setup"));
        assert_eq!(m.xfail, expectation(Some(Category::MissingName), None));
    }

    #[test]
    fn reasons_belong_to_the_marker_before_them() {
        let m = Markers::parse("xfail reason='imgaug is broken'").unwrap();
        assert_eq!(m.xfail, expectation(None, Some("imgaug is broken")));
        let m = Markers::parse("expect=timeout reason=\"loops \\\"forever\\\"\"").unwrap();
        assert_eq!(
            m.xfail,
            expectation(Some(Category::Timeout), Some("loops \"forever\""))
        );
        // The value of `skip`/`xfail` is a reason too, as in the config.
        let m = Markers::parse("skip=\"no GPU\" xfail=broken").unwrap();
        assert_eq!(m.skip.unwrap().reason.as_deref(), Some("no GPU"));
        assert_eq!(m.xfail, expectation(None, Some("broken")));
        let m = Markers::parse("skip").unwrap();
        assert_eq!(m.skip, Some(Skip { reason: None }));
    }

    #[test]
    fn fixtures_add_up() {
        let m = Markers::parse("fixture=ml fixture=images,ml timeout=2.5").unwrap();
        assert_eq!(m.fixtures, ["ml", "images"]);
        assert_eq!(m.timeout, Some(2.5));
    }

    #[test]
    fn bad_markers_are_errors() {
        for (words, message) in [
            ("skipp", "unknown marker `skipp`; the markers are: skip, xfail, expect=CATEGORY, timeout=SECONDS, fixture=NAME, session=NAME, reason=TEXT"),
            ("timeout=abc", "timeout=abc: the time limit is a number of seconds greater than 0"),
            ("timeout=0", "timeout=0: the time limit is a number of seconds greater than 0"),
            ("timeout=-1", "timeout=-1: the time limit is a number of seconds greater than 0"),
            ("timeout=inf", "timeout=inf: the time limit is a number of seconds greater than 0"),
            ("timeout", "`timeout` needs a value: timeout=SECONDS"),
            ("timeout=", "`timeout` needs a value: timeout=SECONDS"),
            ("session", "`session` needs a value: session=NAME"),
            ("fixture=ml,", "fixture=: an empty fixture name"),
            ("expect=nonsense", "expect=nonsense: not a failure category; one of syntax-error, missing-module, missing-name, undefined-name, dependency-error, exception, output-mismatch, timeout, crashed, exited"),
            ("expect=passed", "expect=passed: not a failure category; one of syntax-error, missing-module, missing-name, undefined-name, dependency-error, exception, output-mismatch, timeout, crashed, exited"),
            ("reason=why", "`reason` explains a `skip`, `xfail` or `expect` written before it"),
            ("skip reason=\"open", "reason=: the quoted value is not closed"),
        ] {
            assert_eq!(Markers::parse(words).unwrap_err(), message, "{words}");
        }
    }

    #[test]
    fn info_strings_keep_other_words_for_the_renderer() {
        let m = Markers::parse_info("title=\"x y.py\" skip {.numberLines} timeout=5").unwrap();
        assert_eq!(m.skip, Some(Skip { reason: None }));
        assert_eq!(m.timeout, Some(5.0));
        assert!(Markers::parse_info("linenums=\"1\"").unwrap().is_empty());
        assert!(Markers::parse_info("timeout=soon").is_err());
    }

    #[test]
    fn comments() {
        assert_eq!(
            html_comment("<!-- snipcheck: skip reason=\"x\" -->\n"),
            Some(Ok("skip reason=\"x\""))
        );
        assert_eq!(html_comment("<!--snipcheck:xfail-->"), Some(Ok("xfail")));
        assert_eq!(
            html_comment("<!-- snipcheck: ignore-reference Foo -->"),
            None
        );
        assert_eq!(html_comment("<!-- a comment -->"), None);
        assert_eq!(html_comment("<div>"), None);
        assert!(html_comment("<!-- snipcheck: skip").unwrap().is_err());
    }

    #[test]
    fn applied_to_a_snippet() {
        let mut snippet = Snippet {
            session: Some("doctest".into()),
            fixtures: vec!["ml".into()],
            ..Snippet::default()
        };
        let mut markers = Markers::parse("fixture=images session=s timeout=3").unwrap();
        markers.merge(Markers::parse("fixture=ml xfail").unwrap());
        markers.apply(&mut snippet);
        assert_eq!(snippet.fixtures, ["ml", "images"]);
        assert_eq!(snippet.session.as_deref(), Some("s"));
        assert_eq!(snippet.timeout, Some(3.0));
        assert_eq!(snippet.xfail, expectation(None, None));
    }
}

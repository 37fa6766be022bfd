//! API references in the prose: the names a document claims a library has.
//!
//! Three sources, from the strongest to the weakest:
//! - claims in sentences: "scikit-learn provides an Imputer class", "the nn.RNN module in
//!   PyTorch", "scikit-learn's SimpleImputer class" (explicit: if the name does not exist,
//!   the document is wrong);
//! - code-like words in prose: snake_case names (`mean_squared_error` in "metrics such as
//!   ..."), dotted names that start with a known library or alias (`np.array`);
//! - inline code spans in Markdown (`` `sklearn.impute.SimpleImputer` ``).
//!
//! A bare name belongs to the library named in its sentence, else in its paragraph, else to
//! what the example right next to the paragraph imports. Nothing here runs Python: whether
//! a name exists is decided later, in the embedded interpreter.

mod code;
mod libraries;
mod prose;

use std::collections::HashMap;

use snipcheck_record::{ReferenceKind, Snippet};

use crate::python_text::{self, is_dotted_path, is_identifier, Import};
use crate::{Document, Format};
use libraries::Names;
use prose::{Kind, Prose};

pub use prose::IGNORE_MARKER;

/// What the configuration adds to the built-in knowledge of library names.
#[derive(Debug, Clone, Default)]
pub struct ReferenceContext {
    /// Library names as written in prose -> import names (`"My Lib"` -> `mylib`).
    pub libraries: Vec<(String, String)>,
    /// Short names -> dotted module paths (`nn` -> `torch.nn`).
    pub aliases: Vec<(String, String)>,
}

/// A name the prose mentions, before anyone checked whether it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceCandidate {
    /// Unique within the document: the name's slug and an ordinal.
    pub id: String,
    pub line: u32,
    /// 1-based, in characters.
    pub column: u32,
    /// As written (inside backticks for code spans).
    pub text: String,
    /// The name to look up, as written without call parentheses (`Imputer`, `nn.RNN`).
    pub name: String,
    /// Fully qualified dotted path when the name says where it lives (`torch.nn.RNN`);
    /// `None` for a bare name to be searched for in `libraries`.
    pub path: Option<String>,
    /// Import names of the libraries it may belong to, most likely first; empty when no
    /// library is in context.
    pub libraries: Vec<String>,
    /// Modules the nearby example imports from (`sklearn.metrics`): likely homes.
    pub modules: Vec<String>,
    pub kind: ReferenceKind,
    /// A sentence claims the name exists ("provides a X class"): not finding it is an error.
    pub explicit: bool,
    /// An inline marker says it is intentionally unresolved.
    pub ignored: bool,
    /// Inline code whose first part may be a variable rather than a module (`r.json()`):
    /// only worth reporting when that first part turns out to be a module.
    pub speculative: bool,
    /// The id of the example whose code takes this name from an import (`np.linalg.norm`);
    /// `None` for the prose's names.
    pub snippet: Option<String>,
}

/// Finds the references in `doc`'s prose; `snippets` are its examples (their lines are not
/// prose, and their imports tell which library a bare name belongs to).
pub fn extract_references(
    doc: &Document,
    snippets: &[Snippet],
    context: &ReferenceContext,
) -> Vec<ReferenceCandidate> {
    let mut names = Names::new(context);
    let imports: Vec<Vec<Import>> = snippets
        .iter()
        .map(|s| python_text::imports(&s.code))
        .collect();
    for list in &imports {
        names.learn(list);
    }
    let prose = match doc.format {
        // reST prose reads as plain text once the code blocks are left out.
        Format::Text | Format::Rst => prose::text(&doc.text, snippets),
        Format::Markdown => prose::markdown(&doc.text, snippets),
        // Not read for claims yet: HTML paragraphs, notebook Markdown cells and docstrings
        // need their own prose readers.
        Format::Html | Format::Notebook | Format::Python => prose::Prose::default(),
    };
    let reader = Reader {
        doc,
        names: &names,
        prose: &prose,
        snippets,
        imports: &imports,
    };
    let mut found = reader.read();
    found.sort_by_key(|c| (c.line, c.column));
    found.dedup_by(|b, a| a.line == b.line && a.column == b.column);
    assign_ids(&mut found);
    found
}

/// The names `doc`'s examples take from their imports (`from m import n`, `np.linalg.norm`),
/// to check statically; each has the id of its snippet in `snippet`.
pub fn extract_code_references(doc: &Document, snippets: &[Snippet]) -> Vec<ReferenceCandidate> {
    let mut found = code::code_references(&doc.text, snippets);
    // Numbered apart from the prose's, and prefixed with the snippet's id.
    assign_ids(&mut found);
    for candidate in &mut found {
        let snippet = candidate.snippet.as_deref().unwrap_or("");
        candidate.id = format!("{snippet}.{}", candidate.id);
    }
    found
}

/// Claim verbs: "<library> provides a <Name> class". `s` is the possessive ("scikit-learn's").
const VERBS: &[&str] = &[
    "provides",
    "provide",
    "offers",
    "offer",
    "has",
    "have",
    "includes",
    "include",
    "contains",
    "contain",
    "ships",
    "exposes",
    "defines",
    "implements",
    "supplies",
    "s",
];
const ARTICLES: &[&str] = &["a", "an", "the", "its", "their"];
const PREPOSITIONS: &[&str] = &["in", "from", "of"];
const CONJUNCTIONS: &[&str] = &["and", "or"];
/// Spelled like identifiers, never API names.
const NOT_NAMES: &[&str] = &["True", "False", "None", "e.g", "i.e", "etc", "vs", "cf"];

fn kind_word(word: &str) -> Option<ReferenceKind> {
    Some(match word.to_ascii_lowercase().as_str() {
        "class" | "classes" | "estimator" | "estimators" | "exception" => ReferenceKind::Class,
        "function" | "functions" | "method" | "methods" | "metric" | "metrics" | "decorator" => {
            ReferenceKind::Function
        }
        "module" | "modules" | "package" | "packages" | "submodule" | "submodules" => {
            ReferenceKind::Module
        }
        "attribute" | "attributes" | "constant" | "constants" | "property" => {
            ReferenceKind::Attribute
        }
        _ => return None,
    })
}

struct Reader<'a> {
    doc: &'a Document,
    names: &'a Names,
    prose: &'a Prose,
    snippets: &'a [Snippet],
    imports: &'a [Vec<Import>],
}

/// A name found by a pattern, before its context is worked out.
struct Found {
    token: usize,
    name: String,
    kind: ReferenceKind,
    /// The library the sentence ties it to, for claims.
    library: Option<String>,
    explicit: bool,
}

impl Reader<'_> {
    fn read(&self) -> Vec<ReferenceCandidate> {
        let tokens = &self.prose.tokens;
        let mut out = Vec::new();
        let mut start = 0;
        while start < tokens.len() {
            let mut end = start;
            while end < tokens.len()
                && tokens[end].paragraph == tokens[start].paragraph
                && tokens[end].kind != Kind::Stop
            {
                end += 1;
            }
            for found in self.sentence(start, end) {
                if let Some(candidate) = self.candidate(found, start, end) {
                    out.push(candidate);
                }
            }
            // Past the sentence's stop; a paragraph that ends without one (a heading)
            // leaves `end` at the next paragraph's first token, which starts the next
            // sentence.
            start = if tokens.get(end).is_some_and(|t| t.kind == Kind::Stop) {
                end + 1
            } else {
                end
            };
        }
        out
    }

    /// The library a token names, if any. Inline code counts even for English-word names.
    fn library_at(&self, i: usize, end: usize) -> Option<(String, usize)> {
        let token = self.prose.tokens.get(i).filter(|_| i < end)?;
        match token.kind {
            Kind::Word => self
                .names
                .library(&token.text, false)
                .map(|l| (l.to_string(), i + 1)),
            Kind::Code => {
                if let Some(l) = self.names.library(&token.text, true) {
                    return Some((l.to_string(), i + 1));
                }
                // "the `json` module provides ..." names its library in code.
                let next = self.word(i + 1, end)?;
                (is_dotted_path(&token.text)
                    && matches!(next.as_str(), "module" | "package" | "library"))
                .then(|| (token.text.clone(), i + 2))
            }
            _ => None,
        }
    }

    fn word(&self, i: usize, end: usize) -> Option<String> {
        let token = self.prose.tokens.get(i).filter(|_| i < end)?;
        (token.kind == Kind::Word).then(|| token.text.to_ascii_lowercase())
    }

    /// Patterns over the tokens `start..end` of one sentence.
    fn sentence(&self, start: usize, end: usize) -> Vec<Found> {
        let tokens = &self.prose.tokens;
        let mut found: Vec<Found> = Vec::new();
        let mut used = vec![false; end - start];
        for i in start..end {
            // "<library> provides a <Name>[, <Name> and <Name>] [class]"
            if let Some((library, verb)) = self.library_at(i, end) {
                let is_verb = self
                    .word(verb, end)
                    .is_some_and(|w| VERBS.contains(&w.as_str()));
                if is_verb {
                    let mut j = verb + 1;
                    if self
                        .word(j, end)
                        .is_some_and(|w| ARTICLES.contains(&w.as_str()))
                    {
                        j += 1;
                    }
                    // Up to two adjectives: "a convenient SimpleImputer class".
                    for _ in 0..2 {
                        let adjective = self.word(j, end).is_some_and(|w| {
                            kind_word(&w).is_none()
                                && w == tokens[j].text
                                && is_plain_word(&w)
                                && self.name_like(j + 1, end, true).is_some()
                        });
                        if adjective {
                            j += 1;
                        }
                    }
                    let (list, after) = self.name_list(j, end);
                    let kind = self.word(after, end).and_then(|w| kind_word(&w));
                    for index in list {
                        if let Some(name) = self.name_like(index, end, kind.is_some()) {
                            used[index - start] = true;
                            found.push(Found {
                                token: index,
                                name,
                                kind: kind.unwrap_or(ReferenceKind::Unknown),
                                library: Some(library.clone()),
                                explicit: true,
                            });
                        }
                    }
                }
            }
            // "[the] <Name>[, <Name> and <Name>] class in|from|of <library>"
            if let Some(kind) = self.word(i, end).and_then(|w| kind_word(&w)) {
                let preposition = self
                    .word(i + 1, end)
                    .is_some_and(|w| PREPOSITIONS.contains(&w.as_str()));
                if let (true, Some((library, _))) = (preposition, self.library_at(i + 2, end)) {
                    let mut j = i;
                    // Names and separators alternate: "A, B and C class in X".
                    let mut want_name = true;
                    while j > start {
                        let k = j - 1;
                        let name = if want_name {
                            self.name_like(k, end, true)
                        } else {
                            None
                        };
                        want_name = !want_name;
                        if let Some(name) = name {
                            if !used[k - start] {
                                used[k - start] = true;
                                found.push(Found {
                                    token: k,
                                    name,
                                    kind,
                                    library: Some(library.clone()),
                                    explicit: true,
                                });
                            }
                            j = k;
                        } else if !want_name
                            && (tokens[k].kind == Kind::Comma
                                || self
                                    .word(k, end)
                                    .is_some_and(|w| CONJUNCTIONS.contains(&w.as_str())))
                        {
                            // ", and": two separators in a row.
                            if k > start
                                && tokens[k].kind == Kind::Comma
                                && self
                                    .word(k - 1, end)
                                    .is_some_and(|w| CONJUNCTIONS.contains(&w.as_str()))
                            {
                                j = k - 1;
                            } else {
                                j = k;
                            }
                        } else {
                            break;
                        }
                    }
                }
            }
        }
        // Everything else that reads as code.
        for i in start..end {
            if used[i - start] || self.library_at(i, end).is_some() {
                continue;
            }
            let token = &tokens[i];
            let Some(name) = self.name_like(i, end, false) else {
                continue;
            };
            if token.kind == Kind::Word && !name.contains('_') && self.names.expand(&name).is_none()
            {
                continue; // a plain word, or a dotted word that is no known module
            }
            let kind = self
                .word(i + 1, end)
                .and_then(|w| kind_word(&w))
                .unwrap_or(ReferenceKind::Unknown);
            found.push(Found {
                token: i,
                name,
                kind,
                library: None,
                explicit: false,
            });
        }
        found
    }

    /// Token indices of "<a>, <b> and <c>" starting at `j`, and the index after the list.
    fn name_list(&self, mut j: usize, end: usize) -> (Vec<usize>, usize) {
        let mut list = Vec::new();
        while self.name_like(j, end, true).is_some() {
            list.push(j);
            j += 1;
            let mut k = j;
            if self
                .prose
                .tokens
                .get(k)
                .is_some_and(|t| t.kind == Kind::Comma)
                && k < end
            {
                k += 1;
            }
            if self
                .word(k, end)
                .is_some_and(|w| CONJUNCTIONS.contains(&w.as_str()))
            {
                k += 1;
            }
            if k == j || self.name_like(k, end, true).is_none() {
                break;
            }
            j = k;
        }
        (list, j)
    }

    /// The name a token spells, if it can be an API name. With `kind_follows`, a sentence
    /// says what it is, so a capitalized word (`Imputer`, `SVC`) counts; without, only
    /// code-like spellings do (inline code, snake_case, dotted).
    fn name_like(&self, i: usize, end: usize, kind_follows: bool) -> Option<String> {
        let token = self.prose.tokens.get(i).filter(|_| i < end)?;
        let name = match token.kind {
            Kind::Code => token.text.split('(').next().unwrap_or("").trim(),
            Kind::Word => token.text.as_str(),
            _ => return None,
        };
        if !is_dotted_path(name) || NOT_NAMES.contains(&name) {
            return None;
        }
        if token.kind == Kind::Word && self.names.library(name, false).is_some() {
            return None;
        }
        let code_like = token.kind == Kind::Code
            || name.contains('.')
            || (name.contains('_')
                && name
                    .trim_matches('_')
                    .chars()
                    .any(|c| c.is_ascii_alphabetic()));
        let api_like = code_like
            || (kind_follows
                && name
                    .chars()
                    .any(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
        (api_like && !name.starts_with("__")).then(|| name.to_string())
    }

    fn candidate(&self, found: Found, start: usize, end: usize) -> Option<ReferenceCandidate> {
        let tokens = &self.prose.tokens;
        let token = &tokens[found.token];
        let code = token.kind == Kind::Code;
        let mut libraries = Vec::new();
        let mut modules = Vec::new();
        let mut path = None;
        let mut speculative = false;
        let mut kind = found.kind;
        if let Some(expanded) = self.names.expand(&found.name) {
            // Written with its library or an alias: `nn.RNN`, `sklearn.impute.SimpleImputer`.
            libraries.push(top(&expanded).to_string());
            if self.names.is_import_name(&found.name) && kind == ReferenceKind::Unknown {
                kind = ReferenceKind::Module;
            }
            path = Some(expanded);
        } else if let Some(library) = &found.library {
            libraries.push(top(library).to_string());
            if found.name.contains('.') {
                // "the linear_model.LinearRegression class in scikit-learn"
                path = Some(format!("{library}.{}", found.name));
            } else if library.contains('.') {
                path = Some(format!("{library}.{}", found.name));
            }
        } else if found.name.contains('.') {
            // Inline code starting with an unknown name: a module or a variable.
            if !code {
                return None;
            }
            speculative = true;
            libraries.push(top(&found.name).to_string());
            path = Some(found.name.clone());
        } else {
            let (libs, mods) = self.context(found.token, start, end);
            libraries = libs;
            modules = mods;
            if code {
                // A lone name in inline code is as often an HTTP verb, a parameter or a
                // shell command as an API name: look for it nearby, else in what the whole
                // document is about, as a module of its own and among the builtins, and
                // report it only where it is found or where it misspells a real name.
                speculative = true;
                for library in self.names.in_scope() {
                    if !libraries.contains(&library) {
                        libraries.push(library);
                    }
                }
                for library in [found.name.as_str(), "builtins"] {
                    if !libraries.iter().any(|l| l == library) {
                        libraries.push(library.to_string());
                    }
                }
            }
        }
        let (line, column) = self.place(token.offset);
        let ignored = self.ignored(token.paragraph, &found.name, &token.text);
        Some(ReferenceCandidate {
            id: String::new(),
            line,
            column,
            text: token.text.clone(),
            name: found.name,
            path,
            libraries,
            modules,
            kind,
            explicit: found.explicit,
            ignored,
            speculative,
            snippet: None,
        })
    }

    /// Libraries (and modules) a bare name may belong to: named in its sentence, else in its
    /// paragraph, else imported by the example next to the paragraph.
    fn context(&self, at: usize, start: usize, end: usize) -> (Vec<String>, Vec<String>) {
        let tokens = &self.prose.tokens;
        let paragraph = tokens[at].paragraph;
        let named = |range: std::ops::Range<usize>| -> Vec<String> {
            let mut out: Vec<String> = Vec::new();
            for i in range {
                if let Some((library, _)) = self.library_at(i, tokens.len()) {
                    if !out.contains(&library) {
                        out.push(library);
                    }
                }
            }
            out
        };
        let sentence = named(start..end);
        if !sentence.is_empty() {
            return (sentence, Vec::new());
        }
        let first = tokens
            .iter()
            .position(|t| t.paragraph == paragraph)
            .unwrap_or(at);
        let last = tokens
            .iter()
            .rposition(|t| t.paragraph == paragraph)
            .unwrap_or(at);
        let in_paragraph = named(first..last + 1);
        if !in_paragraph.is_empty() {
            return (in_paragraph, Vec::new());
        }
        let (from, _) = self.place(tokens[first].offset);
        let (to, _) = self.place(tokens[last].offset);
        let mut libraries: Vec<String> = Vec::new();
        let mut modules: Vec<String> = Vec::new();
        // The example right after the paragraph ("For example,"), else right before it;
        // only blank lines or a fence line may stand between them.
        let after = self
            .snippets
            .iter()
            .position(|s| s.line > to && s.line - to <= 3);
        let before = self
            .snippets
            .iter()
            .rposition(|s| s.end_line < from && from - s.end_line <= 3);
        if let Some(index) = after.or(before) {
            for import in &self.imports[index] {
                let library = import.library().to_string();
                if !libraries.contains(&library) {
                    libraries.push(library);
                }
                if import.module != import.target && !modules.contains(&import.module) {
                    modules.push(import.module.clone());
                }
            }
        }
        (libraries, modules)
    }

    fn ignored(&self, paragraph: usize, name: &str, text: &str) -> bool {
        self.prose.markers.iter().any(|m| {
            (m.paragraph == paragraph || (m.alone && m.paragraph + 1 == paragraph))
                && (m.names.is_empty() || m.names.iter().any(|n| n == name || n == text))
        })
    }

    /// 1-based line and character column of a byte offset.
    fn place(&self, offset: usize) -> (u32, u32) {
        let text = &self.doc.text;
        let offset = offset.min(text.len());
        let before = text.get(..offset).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (to_u32(line), to_u32(column))
    }
}

/// A capitalized or lowercase English word: no digits, underscores or inner capitals.
fn is_plain_word(word: &str) -> bool {
    is_identifier(word)
        && !word.contains('_')
        && !word
            .chars()
            .skip(1)
            .any(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

fn top(path: &str) -> &str {
    path.split('.').next().unwrap_or(path)
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Ids from the name and an ordinal among references to the same name, so an id does not
/// change when references to other names are added or removed.
fn assign_ids(found: &mut [ReferenceCandidate]) {
    let mut seen: HashMap<String, u32> = HashMap::new();
    for candidate in found {
        let mut slug: String = candidate
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        while slug.contains("--") {
            slug = slug.replace("--", "-");
        }
        slug = slug.trim_matches('-').to_string();
        if slug.is_empty() {
            slug = "reference".into();
        }
        let count = seen.entry(slug.clone()).or_insert(0);
        *count += 1;
        candidate.id = if *count == 1 {
            slug
        } else {
            format!("{slug}-{count}")
        };
    }
}

#[cfg(test)]
mod tests;

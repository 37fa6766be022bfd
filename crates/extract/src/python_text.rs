//! Reading Python text without Python: identifiers, dotted paths and import statements.
//! The one reader the formats, the reference finder, the definitions reader and the
//! worker pool's warm-up all use, so they agree on what a snippet imports.

/// One name bound by an import statement in an example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// The name the statement binds (`nn`, `np`, `mean_squared_error`, `torch`).
    pub binding: String,
    /// What it binds to, fully qualified (`torch.nn`, `sklearn.metrics.mean_squared_error`).
    pub target: String,
    /// The module the name was taken from (`sklearn.metrics`), or the module itself.
    pub module: String,
}

impl Import {
    /// The top-level package: the library the name belongs to.
    pub fn library(&self) -> &str {
        self.target.split('.').next().unwrap_or(&self.target)
    }
}

/// The imports of a piece of Python code, read statement by statement at any indentation
/// (absolute imports on one line; anything more exotic is simply not learnt from).
pub fn imports(code: &str) -> Vec<Import> {
    let mut out = Vec::new();
    if !code.contains("import") {
        return out; // most examples: read for nothing below
    }
    let statements = code
        .lines()
        .flat_map(|line| line.split('#').next().unwrap_or("").split(';'));
    for line in statements {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("import ") {
            for part in rest.split(',') {
                let mut words = part.split_whitespace();
                let Some(module) = words.next().filter(|m| is_dotted_path(m)) else {
                    continue;
                };
                let import = match (words.next(), words.next()) {
                    (Some("as"), Some(alias)) if is_identifier(alias) => Import {
                        binding: alias.to_string(),
                        target: module.to_string(),
                        module: module.to_string(),
                    },
                    (None, _) => {
                        // `import a.b` binds `a`.
                        let top = module.split('.').next().unwrap_or(module).to_string();
                        Import {
                            binding: top.clone(),
                            target: top,
                            module: module.to_string(),
                        }
                    }
                    _ => continue,
                };
                out.push(import);
            }
        } else if let Some(rest) = line.strip_prefix("from ") {
            let Some((module, names)) = rest.split_once(" import ") else {
                continue;
            };
            let module = module.trim();
            if !is_dotted_path(module) {
                continue; // relative imports say nothing about a library
            }
            let names = names.trim().trim_start_matches('(').trim_end_matches(')');
            for part in names.split(',') {
                let mut words = part.split_whitespace();
                let Some(name) = words.next().filter(|n| is_identifier(n)) else {
                    continue;
                };
                let binding = match (words.next(), words.next()) {
                    (Some("as"), Some(alias)) if is_identifier(alias) => alias,
                    (None, _) => name,
                    _ => continue,
                };
                out.push(Import {
                    binding: binding.to_string(),
                    target: format!("{module}.{name}"),
                    module: module.to_string(),
                });
            }
        }
    }
    out
}

/// A Python identifier: a letter or `_`, then letters, digits and `_` (Unicode, as
/// Python has them).
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// One or more identifiers joined by dots.
pub fn is_dotted_path(s: &str) -> bool {
    !s.is_empty() && s.split('.').all(is_identifier)
}

/// The modules a piece of code imports (`a.b` for `import a.b` and `from a.b import c`).
pub fn imported_modules(code: &str) -> std::collections::BTreeSet<String> {
    imports(code).into_iter().map(|i| i.module).collect()
}

/// A piece of code split into what it says in string literals and the names it uses
/// outside them (comments dropped). Escapes are not decoded and f-strings are one literal:
/// enough to tell whether code mentions a file name or calls a function by name.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Scanned {
    pub strings: Vec<String>,
    pub names: Vec<String>,
}

/// Scans `code` (see [`Scanned`]); an unterminated literal runs to the end.
pub fn scan(code: &str) -> Scanned {
    let mut scanned = Scanned::default();
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    let mut name = String::new();
    let flush = |name: &mut String, scanned: &mut Scanned| {
        if !name.is_empty() {
            scanned.names.push(std::mem::take(name));
        }
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '#' {
            flush(&mut name, &mut scanned);
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '\'' || c == '"' {
            // A prefix (`f`, `rb`...) was read as a name: it is part of the literal.
            if name.len() <= 2 && name.chars().all(|p| "rRbBuUfF".contains(p)) {
                name.clear();
            }
            flush(&mut name, &mut scanned);
            let triple = chars[i..].starts_with(&[c, c, c]);
            let quote = if triple { 3 } else { 1 };
            i += quote;
            let mut text = String::new();
            while i < chars.len() {
                // A backslash keeps the next character, the quote too (raw strings alike).
                if chars[i] == '\\' {
                    text.extend(chars.get(i..i + 2).unwrap_or(&chars[i..]));
                    i += 2;
                    continue;
                }
                if chars[i..].starts_with(&vec![c; quote]) || (!triple && chars[i] == '\n') {
                    i += if chars[i] == '\n' { 1 } else { quote };
                    break;
                }
                text.push(chars[i]);
                i += 1;
            }
            scanned.strings.push(text);
            continue;
        } else if c.is_alphanumeric() || c == '_' {
            name.push(c);
        } else {
            flush(&mut name, &mut scanned);
        }
        i += 1;
    }
    flush(&mut name, &mut scanned);
    scanned.names.retain(|n| is_identifier(n));
    scanned
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_imports() {
        let got = imports(
            "import torch\nimport torch.nn as nn\nfrom sklearn.metrics import (r2_score, \
             mean_squared_error as mse)\nimport os.path, json  # two\nfrom . import x\n\
             x = 'import nothing'\n",
        );
        let pairs: Vec<(&str, &str)> = got
            .iter()
            .map(|i| (i.binding.as_str(), i.target.as_str()))
            .collect();
        assert_eq!(
            pairs,
            vec![
                ("torch", "torch"),
                ("nn", "torch.nn"),
                ("r2_score", "sklearn.metrics.r2_score"),
                ("mse", "sklearn.metrics.mean_squared_error"),
                ("os", "os"),
                ("json", "json"),
            ]
        );
        assert_eq!(got[2].module, "sklearn.metrics");
        assert_eq!(got[2].library(), "sklearn");
    }

    #[test]
    fn scans_literals_and_names_outside_them() {
        let scanned = scan(
            "x = f'a{b}.csv'  # open('no.txt')\ny = \"\"\"doc\nstring\"\"\" + rb\"\\\"q\"\nz.seed(1)\n",
        );
        assert_eq!(scanned.strings, ["a{b}.csv", "doc\nstring", "\\\"q"]);
        assert_eq!(scanned.names, ["x", "y", "z", "seed"]);
    }

    #[test]
    fn statements_on_one_line_and_unicode_names() {
        let got = imports("import os; import sys\nfrom données import tableau\n");
        let modules: Vec<&str> = got.iter().map(|i| i.module.as_str()).collect();
        assert_eq!(modules, ["os", "sys", "données"]);
        assert!(is_identifier("données") && is_identifier("_x1"));
        assert!(!is_identifier("1x") && !is_identifier("a-b") && !is_identifier(""));
        assert_eq!(
            imported_modules("import numpy.linalg as la\nfrom json import loads\n"),
            ["json".to_string(), "numpy.linalg".to_string()].into()
        );
    }
}

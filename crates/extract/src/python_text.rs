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

//! Which modules a snippet imports, read from its text (no Python needed), so the
//! pool can warm workers up with them and send documents to workers that already have them.

use std::collections::BTreeSet;

/// Modules whose import does something visible (prints, opens a browser or a window):
/// never imported ahead of the snippet that asks for them.
const NOT_FOR_WARMING: &[&str] = &[
    "__future__",
    "antigravity",
    "this",
    "tkinter",
    "turtle",
    "idlelib",
];

/// The modules `import a.b` and `from a.b import c` statements load, at any indentation,
/// as written (`a.b`): warming only `a` would leave every child to import `a.b` again.
pub fn imported_modules(code: &str) -> BTreeSet<String> {
    let mut modules = BTreeSet::new();
    for line in code.lines() {
        let line = line.trim_start();
        if let Some(rest) = line.strip_prefix("import ") {
            for part in rest.split(',') {
                if let Some(name) = module_head(part) {
                    modules.insert(name);
                }
            }
        } else if let Some(rest) = line.strip_prefix("from ") {
            if let Some(name) = module_head(rest) {
                modules.insert(name);
            }
        }
    }
    modules.retain(|m| {
        let top = m.split('.').next().unwrap_or(m);
        !NOT_FOR_WARMING.contains(&top)
    });
    modules
}

/// `numpy.linalg` from ` numpy.linalg as la`; `None` for relative imports and non-names.
fn module_head(text: &str) -> Option<String> {
    let head: String = text
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
        .collect();
    let valid = !head.is_empty()
        && !head.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && !head.ends_with('.')
        && !head.contains("..");
    valid.then_some(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_modules_as_written() {
        let code = "import numpy as np, os.path\nfrom sklearn.metrics import r2_score\n\
                    def f():\n    import torch.nn as nn\nfrom . import sibling\nimport this\n";
        let found: Vec<String> = imported_modules(code).into_iter().collect();
        assert_eq!(found, ["numpy", "os.path", "sklearn.metrics", "torch.nn"]);
    }

    #[test]
    fn prose_like_lines_are_not_imports() {
        assert!(imported_modules("important = 1\nfromage = 2\n").is_empty());
    }
}

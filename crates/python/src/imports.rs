//! Which modules a snippet imports, read from its text by the one Python-text reader
//! (`snipcheck_extract::python_text`), so the pool can warm workers up with them and send
//! documents to workers that already have them.

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
    let mut modules = snipcheck_extract::python_text::imported_modules(code);
    modules.retain(|m| !NOT_FOR_WARMING.contains(&top_level(m)));
    modules
}

/// The top-level package of a module (`sklearn` of `sklearn.metrics`): the library, as
/// parts, name queries and import weights count it.
pub fn top_level(module: &str) -> &str {
    module.split('.').next().unwrap_or(module)
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

//! Which library a name belongs to: library names as people write them, the short aliases
//! code uses (`np`, `nn`, `tf`), and what a document's own examples import.

use std::collections::BTreeMap;

use crate::python_text::Import;

/// Library names as written in prose (lowercase) and the name they are imported by.
const DEFAULT_LIBRARIES: &[(&str, &str)] = &[
    ("scikit-learn", "sklearn"),
    ("sklearn", "sklearn"),
    ("scikit-image", "skimage"),
    ("skimage", "skimage"),
    ("pytorch", "torch"),
    ("torch", "torch"),
    ("torchvision", "torchvision"),
    ("tensorflow", "tensorflow"),
    ("keras", "keras"),
    ("opencv", "cv2"),
    ("cv2", "cv2"),
    ("numpy", "numpy"),
    ("pandas", "pandas"),
    ("scipy", "scipy"),
    ("matplotlib", "matplotlib"),
    ("seaborn", "seaborn"),
    ("imgaug", "imgaug"),
    ("xgboost", "xgboost"),
    ("lightgbm", "lightgbm"),
    ("catboost", "catboost"),
    ("statsmodels", "statsmodels"),
    ("nltk", "nltk"),
    ("spacy", "spacy"),
    ("gensim", "gensim"),
    ("jax", "jax"),
    ("pillow", "PIL"),
    ("pil", "PIL"),
    ("beautifulsoup", "bs4"),
    ("bs4", "bs4"),
    ("sqlalchemy", "sqlalchemy"),
    ("pydantic", "pydantic"),
    ("pytest", "pytest"),
    ("httpx", "httpx"),
    ("django", "django"),
    ("fastapi", "fastapi"),
    ("networkx", "networkx"),
    ("sympy", "sympy"),
    ("polars", "polars"),
    ("pyarrow", "pyarrow"),
    // Also plain English words: taken only when capitalized or written as code.
    ("requests", "requests"),
    ("click", "click"),
    ("rich", "rich"),
    ("attrs", "attrs"),
    ("flask", "flask"),
    ("transformers", "transformers"),
];

/// Library names that are also ordinary English words ("HTTP requests", "a rich set").
const ENGLISH_WORDS: &[&str] = &[
    "requests",
    "click",
    "rich",
    "attrs",
    "flask",
    "transformers",
];

/// Short names code conventionally binds modules to.
const DEFAULT_ALIASES: &[(&str, &str)] = &[
    ("np", "numpy"),
    ("pd", "pandas"),
    ("plt", "matplotlib.pyplot"),
    ("sns", "seaborn"),
    ("tf", "tensorflow"),
    ("nn", "torch.nn"),
    ("F", "torch.nn.functional"),
    ("optim", "torch.optim"),
    ("sk", "sklearn"),
];

/// What is known about library names and aliases while reading one document.
#[derive(Debug, Clone, Default)]
pub(crate) struct Names {
    /// Lowercase written name -> import name.
    libraries: BTreeMap<String, String>,
    /// Alias -> dotted module path.
    aliases: BTreeMap<String, String>,
    /// Top-level modules the document's examples import: their names are code, not prose.
    imported: Vec<String>,
    /// Import names of the libraries the configuration names.
    configured: Vec<String>,
}

impl Names {
    /// The defaults, extended (and overridden) by the configuration's entries.
    pub(crate) fn new(context: &super::ReferenceContext) -> Self {
        let mut names = Names::default();
        for (written, import) in DEFAULT_LIBRARIES {
            names
                .libraries
                .insert(written.to_string(), import.to_string());
        }
        for (alias, path) in DEFAULT_ALIASES {
            names.aliases.insert(alias.to_string(), path.to_string());
        }
        for (written, import) in &context.libraries {
            names
                .libraries
                .insert(written.to_lowercase(), import.to_string());
            if !names.configured.contains(import) {
                names.configured.push(import.clone());
            }
        }
        for (alias, path) in &context.aliases {
            names.aliases.insert(alias.clone(), path.clone());
        }
        names
    }

    /// Adds what an example imports: `import torch.nn as nn` makes `nn` mean `torch.nn`.
    pub(crate) fn learn(&mut self, imports: &[Import]) {
        for import in imports {
            self.aliases
                .insert(import.binding.clone(), import.target.clone());
            let top = import.library().to_string();
            if !self.imported.contains(&top) {
                self.imported.push(top);
            }
        }
    }

    /// The import name of a library as written in prose, if `word` names one.
    /// `code` says the word was written as code, where English-word names count too.
    pub(crate) fn library(&self, word: &str, code: bool) -> Option<&str> {
        // Asked of most words of the prose, which name no library: an ASCII word is
        // lowercased on the stack, not in a new string.
        let mut ascii = [0u8; 32];
        let owned;
        let lower: &str = match ascii.get_mut(..word.len()) {
            Some(bytes) if word.is_ascii() => {
                bytes.copy_from_slice(word.as_bytes());
                bytes.make_ascii_lowercase();
                std::str::from_utf8(bytes).ok()?
            }
            _ => {
                owned = word.to_lowercase();
                &owned
            }
        };
        let import = self.libraries.get(lower)?;
        let english = ENGLISH_WORDS.contains(&lower);
        let capitalized = word.chars().next().is_some_and(char::is_uppercase);
        (!english || code || capitalized).then_some(import.as_str())
    }

    /// `nn.RNN` -> `torch.nn.RNN` when the first part is an alias or a known library's
    /// import name; `None` when the first part is unknown (a variable, a file name).
    pub(crate) fn expand(&self, dotted: &str) -> Option<String> {
        let (first, rest) = match dotted.split_once('.') {
            Some((first, rest)) => (first, Some(rest)),
            None => (dotted, None),
        };
        let base = if let Some(path) = self.aliases.get(first) {
            path.clone()
        } else if self.is_import_name(first) {
            first.to_string()
        } else {
            return None;
        };
        Some(match rest {
            Some(rest) => format!("{base}.{rest}"),
            None => base,
        })
    }

    /// The libraries a document is about when its prose does not say: those its examples
    /// import, then those the configuration names.
    pub(crate) fn in_scope(&self) -> Vec<String> {
        let mut out = self.imported.clone();
        for library in &self.configured {
            if !out.contains(library) {
                out.push(library.clone());
            }
        }
        out
    }

    /// Whether `name` is how some known library is imported (`sklearn`, `torch`, `json` when
    /// an example imports it).
    pub(crate) fn is_import_name(&self, name: &str) -> bool {
        self.libraries.values().any(|v| v == name) || self.imported.iter().any(|m| m == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python_text::imports;
    use crate::references::ReferenceContext;

    #[test]
    fn library_names_and_english_words() {
        let names = Names::new(&ReferenceContext::default());
        assert_eq!(names.library("scikit-learn", false), Some("sklearn"));
        assert_eq!(names.library("PyTorch", false), Some("torch"));
        assert_eq!(names.library("OpenCV", false), Some("cv2"));
        assert_eq!(names.library("requests", false), None);
        assert_eq!(names.library("Requests", false), Some("requests"));
        assert_eq!(names.library("requests", true), Some("requests"));
        assert_eq!(names.library("dropout", false), None);
    }

    #[test]
    fn configured_names_of_any_length_and_script_are_found_in_any_case() {
        let long = "The Extraordinarily Long Library Name";
        let names = Names::new(&ReferenceContext {
            libraries: vec![
                (long.into(), "longlib".into()),
                ("Ünicode".into(), "unicode_lib".into()),
            ],
            aliases: vec![],
        });
        assert!(long.len() > 32);
        assert_eq!(names.library(long, false), Some("longlib"));
        assert_eq!(names.library(&long.to_uppercase(), false), Some("longlib"));
        assert_eq!(names.library("ÜNICODE", false), Some("unicode_lib"));
        assert_eq!(names.library("SCIKIT-LEARN", false), Some("sklearn"));
    }

    #[test]
    fn expands_aliases_and_libraries_only() {
        let mut names = Names::new(&ReferenceContext {
            aliases: vec![("skm".into(), "sklearn.metrics".into())],
            ..ReferenceContext::default()
        });
        assert_eq!(names.expand("nn.RNN").as_deref(), Some("torch.nn.RNN"));
        assert_eq!(
            names.expand("tf.keras").as_deref(),
            Some("tensorflow.keras")
        );
        assert_eq!(
            names.expand("skm.r2_score").as_deref(),
            Some("sklearn.metrics.r2_score")
        );
        assert_eq!(names.expand("github.com"), None);
        assert_eq!(names.expand("data.csv"), None);
        assert_eq!(names.expand("json.loads"), None);
        names.learn(&imports("import json\n"));
        assert_eq!(names.expand("json.loads").as_deref(), Some("json.loads"));
    }
}

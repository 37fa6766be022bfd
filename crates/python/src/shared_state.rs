//! Whether a document's snippets may reach each other through the process or the working
//! folder, read from their text: under `--isolate document` they run in order in one child
//! and one folder, so a file written by one is there for a later one, and so is a seed or
//! an option set in a library. Only a document whose code shows neither is cut under
//! `--isolate library` (see `pool`). The reading errs on the side of
//! "may": a false alarm only costs the document its parallelism.

/// Names whose use reads or changes what the folder or the process holds for a later
/// snippet: listings and the working folder, seeds, options and filters of libraries, the
/// environment.
const SHARED_STATE_NAMES: &[&str] = &[
    "listdir",
    "scandir",
    "walk",
    "glob",
    "iglob",
    "iterdir",
    "rglob",
    "getcwd",
    "cwd",
    "chdir",
    "environ",
    "putenv",
    "seed",
    "manual_seed",
    "set_seed",
    "set_option",
    "set_printoptions",
    "set_config",
    "filterwarnings",
    "simplefilter",
    "basicConfig",
    "setrecursionlimit",
    "set_default_dtype",
];

/// True when `code` may leave something a later snippet of its document sees, or see what
/// an earlier one left: it names a file (a string literal with a path separator, a
/// wildcard or a file extension) or uses one of [`SHARED_STATE_NAMES`].
pub fn may_share_state(code: &str) -> bool {
    let scanned = snipcheck_extract::python_text::scan(code);
    scanned.strings.iter().any(|s| names_a_file(s))
        || scanned
            .names
            .iter()
            .any(|name| SHARED_STATE_NAMES.contains(&name.as_str()))
}

/// `data/x.csv`, `model.h5`, `*.txt`; not `%.2f`, `{:.3}` or a sentence ending in a period.
fn names_a_file(text: &str) -> bool {
    if text.contains(['/', '\\', '*']) {
        return true;
    }
    let Some((stem, extension)) = text.trim().rsplit_once('.') else {
        return false;
    };
    let stem_ends_in_a_name = stem
        .chars()
        .last()
        .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '}');
    stem_ends_in_a_name
        && (1..=5).contains(&extension.len())
        && extension.starts_with(|c: char| c.is_ascii_alphabetic())
        && extension.chars().all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_and_process_state_are_shared_state() {
        for code in [
            "df.to_csv('out.csv')",
            "model.save(f\"model_{epoch}.h5\")",
            "open('data/train.txt').read()",
            "import glob\nfiles = glob.glob(pattern)",
            "import numpy as np\nnp.random.seed(0)",
            "import os\nos.environ['KEY'] = '1'",
            "torch.manual_seed(42)",
        ] {
            assert!(may_share_state(code), "{code}");
        }
    }

    #[test]
    fn self_contained_code_is_not() {
        for code in [
            "from sklearn.svm import SVC\nsvm = SVC(kernel='linear', C=1)",
            "print('Accuracy: %.2f' % acc)\nprint(f'{x:.3f}')",
            "import numpy as np\na = np.arange(10)  # see data.csv\nassert a.sum() == 45",
            "s = 'The end.'\nlabel = \"e.g. this\"",
            "seeds = [1, 2]\nrandom_state = 42",
        ] {
            assert!(!may_share_state(code), "{code}");
        }
    }
}

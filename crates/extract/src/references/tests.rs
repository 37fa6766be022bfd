use super::*;
use crate::extract;

fn refs_in(text: &str, format: Format) -> Vec<ReferenceCandidate> {
    let doc = Document {
        path: "doc".into(),
        text: text.into(),
        format,
    };
    let snippets = extract(&doc).snippets;
    extract_references(&doc, &snippets, &ReferenceContext::default())
}

/// (line, name, path, libraries, explicit) of each reference.
fn summary(refs: &[ReferenceCandidate]) -> Vec<String> {
    refs.iter()
        .map(|r| {
            format!(
                "{}:{} {} path={} libs={} {:?}{}{}",
                r.line,
                r.column,
                r.name,
                r.path.as_deref().unwrap_or("-"),
                r.libraries.join(","),
                r.kind,
                if r.explicit { " explicit" } else { "" },
                if r.speculative { " speculative" } else { "" },
            )
        })
        .collect()
}

const GUIDE: &str = include_str!("../../../../snippets/ml-engineer-interview-guide.txt");

#[test]
fn guide_references() {
    let refs = refs_in(GUIDE, Format::Text);
    let got = summary(&refs);
    let expected = [
        "9:263 early_stopping path=- libs= Unknown",
        "29:179 Imputer path=- libs=sklearn Class explicit",
        "37:78 mean_squared_error path=sklearn.metrics.mean_squared_error libs=sklearn Unknown",
        "37:98 mean_absolute_error path=sklearn.metrics.mean_absolute_error libs=sklearn Unknown",
        "37:123 r_squared path=- libs=sklearn Unknown",
        "48:57 RandomForestClassifier path=sklearn.ensemble.RandomForestClassifier libs=sklearn Class explicit",
        "59:188 ClassWeight path=- libs=sklearn Class explicit",
        "67:82 silhouette_score path=sklearn.metrics.silhouette_score libs=sklearn Unknown",
        "67:103 calinski_harabasz_score path=- libs=sklearn Unknown",
        "78:61 GradientBoostingClassifier path=sklearn.ensemble.GradientBoostingClassifier libs=sklearn Class explicit",
        "89:129 RobustScaler path=- libs=sklearn Class explicit",
        "108:57 nn.RNN path=torch.nn.RNN libs=torch Module explicit",
        "120:188 ClassWeight path=- libs=sklearn Class explicit",
        "128:66 SVC path=sklearn.svm.SVC libs=sklearn Class explicit",
        "139:91 mean_absolute_error path=sklearn.metrics.mean_absolute_error libs=sklearn Unknown",
        "139:115 mean_squared_error path=sklearn.metrics.mean_squared_error libs=sklearn Unknown",
        "150:61 KMeans path=sklearn.cluster.KMeans libs=sklearn Class explicit",
        "161:198 Imputer path=- libs=sklearn Class explicit",
        "180:47 tf.keras path=tensorflow.keras libs=tensorflow Module explicit",
        "191:188 ClassWeight path=- libs=sklearn Class explicit",
        "210:50 nn.Transformer path=torch.nn.Transformer libs=torch Module explicit",
        "222:182 CountVectorizer path=- libs=sklearn Class explicit",
        "230:63 nn.Module path=torch.nn.Module libs=torch Module explicit",
        "242:188 ClassWeight path=- libs=sklearn Class explicit",
        "261:179 Imputer path=- libs=sklearn Class explicit",
        "269:61 tf.keras path=tensorflow.keras libs=tensorflow Module explicit",
        "280:133 ClassWeight path=- libs=sklearn Class explicit",
    ];
    // Columns point at the name itself.
    let line_29 = GUIDE.lines().nth(28).unwrap();
    assert!(line_29
        .chars()
        .skip(178)
        .collect::<String>()
        .starts_with("Imputer class"));
    assert_eq!(got, expected);
    // The mis-named metric knows where the example around it imports from.
    let r_squared = refs.iter().find(|r| r.name == "r_squared").unwrap();
    assert_eq!(r_squared.modules, vec!["sklearn.metrics"]);
    let ids: Vec<&str> = refs
        .iter()
        .filter(|r| r.name == "Imputer")
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(ids, vec!["imputer", "imputer-2", "imputer-3"]);
}

#[test]
fn sentence_claims() {
    let text = "NumPy provides the np.ndarray class.\n\n\
                scikit-learn's SimpleImputer and KNNImputer classes fill gaps.\n\n\
                The linear_model.LinearRegression class in scikit-learn fits lines.\n\n\
                PyTorch has a convenient DataLoader class.\n\n\
                The `collections` module provides an `OrderedDict` class.\n";
    assert_eq!(
        summary(&refs_in(text, Format::Markdown)),
        [
            "1:20 np.ndarray path=numpy.ndarray libs=numpy Class explicit",
            "3:16 SimpleImputer path=- libs=sklearn Class explicit",
            "3:34 KNNImputer path=- libs=sklearn Class explicit",
            "5:5 linear_model.LinearRegression path=sklearn.linear_model.LinearRegression libs=sklearn Class explicit",
            "7:26 DataLoader path=- libs=torch Class explicit",
            "9:39 OrderedDict path=- libs=collections Class explicit",
        ]
    );
}

/// A paragraph ending without a full stop (a heading) ends its sentence: the first word of
/// the next paragraph starts a sentence too, and was once skipped.
#[test]
fn claims_right_after_a_heading() {
    let text = "Missing values\n\nscikit-learn provides a SimpleImputer class.\n";
    let want = ["3:25 SimpleImputer path=- libs=sklearn Class explicit"];
    assert_eq!(summary(&refs_in(text, Format::Text)), want);
    let text = "# Missing values\n\nscikit-learn provides a SimpleImputer class.\n";
    assert_eq!(summary(&refs_in(text, Format::Markdown)), want);
}

/// Where a Markdown reference is: at its name even after escapes and entities (a search
/// for the name once ran past it, to the end of the line), inside a code span that starts
/// on the line before, and never on an example's lines (which the prose reader, reading
/// tables, may take for table rows).
#[test]
fn markdown_references_are_placed_at_their_name() {
    let places = |text: &str| -> Vec<(u32, u32, String)> {
        refs_in(text, Format::Markdown)
            .into_iter()
            .map(|r| (r.line, r.column, r.text))
            .collect()
    };
    assert_eq!(
        places("Use mean_squared_error\\_ &amp; scikit-learn provides a SimpleImputer class.\n"),
        [
            (1, 5, "mean_squared_error_".into()),
            (1, 56, "SimpleImputer".into())
        ]
    );
    assert_eq!(places("\\_\\_\\`# A__\n"), [(1, 9, "A__".into())]);
    assert_eq!(
        places("Call ````\nprint(x)```` now.\n"),
        [(2, 1, "print(x)".into())]
    );
    let table = "# \n| a | b |\n|---|---|\nx = 1---\ntitle: x\n---\n```python\n`````````---\n\
                 title: x\n---\nsnake\\_case";
    assert_eq!(places(table), []);
}

#[test]
fn what_is_not_a_reference() {
    let text = "Python 3.11 replaced 2.0 in the e.g. release; see data.csv and \
                https://example.org/a_b.html or write to dev_team@example.com.\n\
                PyTorch provides GPU acceleration and a simple class for it.\n\
                Techniques such as PCA, t-SNE, Word2Vec and GloVe, or F1 scores.\n\
                Libraries such as imgaug or OpenCV, and HTTP requests, rich text.\n\
                Visit github.com/someone or www.example.com today, i.e. now.\n";
    assert_eq!(summary(&refs_in(text, Format::Text)), Vec::<String>::new());
}

#[test]
fn code_spans() {
    let text = "Use `json.loads()` and `os.path` but not `json.parse`.\n\n\
                Call `r.json()` on the `Response`, or `print(x)`; `pip install x` is a command.\n\n\
                With `requests`, use `requests.get`.\n";
    assert_eq!(
        summary(&refs_in(text, Format::Markdown)),
        [
            "1:6 json.loads path=json.loads libs=json Unknown speculative",
            "1:25 os.path path=os.path libs=os Unknown speculative",
            "1:43 json.parse path=json.parse libs=json Unknown speculative",
            "3:7 r.json path=r.json libs=r Unknown speculative",
            "3:25 Response path=- libs=Response,builtins Unknown speculative",
            "3:40 print path=- libs=print,builtins Unknown speculative",
            "5:23 requests.get path=requests.get libs=requests Unknown",
        ]
    );
}

#[test]
fn examples_give_context_and_aliases() {
    let text = "Metrics such as r2_score and max_error help.\n\n\
                ```python\nimport numpy as xp\nfrom sklearn.metrics import r2_score\n```\n\n\
                Then `xp.zeros` makes an array.\n";
    assert_eq!(
        summary(&refs_in(text, Format::Markdown)),
        [
            "1:17 r2_score path=sklearn.metrics.r2_score libs=sklearn Unknown",
            "1:30 max_error path=- libs=numpy,sklearn Unknown",
            "8:7 xp.zeros path=numpy.zeros libs=numpy Unknown",
        ]
    );
}

#[test]
fn ignore_markers() {
    let text = "<!-- snipcheck: ignore-reference -->\n\
                scikit-learn provides an Imputer class.\n\n\
                scikit-learn provides the Foo and Bar classes. <!-- snipcheck: ignore-reference Bar -->\n\n\
                scikit-learn provides a Baz class.\n";
    let refs = refs_in(text, Format::Markdown);
    let ignored: Vec<(&str, bool)> = refs.iter().map(|r| (r.name.as_str(), r.ignored)).collect();
    assert_eq!(
        ignored,
        [
            ("Imputer", true),
            ("Foo", false),
            ("Bar", true),
            ("Baz", false)
        ]
    );
}

#[test]
fn odd_input_does_not_panic() {
    for text in [
        "",
        "`",
        "scikit-learn provides",
        "scikit-learn provides a",
        "the class in",
        "class in scikit-learn",
        "é `é.é` ü_ü scikit-learn’s",
        "scikit-learn provides a X, , and class",
    ] {
        for format in [Format::Text, Format::Markdown] {
            let _ = refs_in(text, format);
        }
    }
}

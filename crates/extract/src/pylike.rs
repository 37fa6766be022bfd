//! Recognising Python in plain text without Python: a small tokenizer and line-shape
//! heuristics. The bias is towards prose: a paragraph that might be English is left alone,
//! because taking prose for code produces a false failure, while missing an unusual
//! example only loses coverage.

/// A Python token, as much as the heuristics need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    Name(String),
    Num,
    Str,
    Op(&'static str),
    Open(char),
    Close(char),
}

/// Tokenizer state carried from one physical line to the next.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lexer {
    /// Open brackets, innermost last.
    brackets: Vec<char>,
    /// Quote character of an unfinished triple-quoted string.
    triple: Option<char>,
    /// The previous line ended with a continuation backslash.
    backslash: bool,
}

/// Operators, longest first so that the first match is the right one.
const OPS: &[&str] = &[
    "**=", "//=", ">>=", "<<=", "...", "->", ":=", "**", "//", ">>", "<<", "<=", ">=", "==", "!=",
    "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=", "+", "-", "*", "/", "%", "@", "&", "|",
    "^", "~", "<", ">", "=", ".", ",", ":", ";",
];

const STRING_PREFIXES: &[&str] = &["r", "u", "b", "f", "t", "br", "rb", "fr", "rf", "tr", "rt"];

impl Lexer {
    /// Whether the logical line continues on the next physical line.
    pub(crate) fn continues(&self) -> bool {
        !self.brackets.is_empty() || self.triple.is_some() || self.backslash
    }

    /// Tokenizes one physical line (without its newline), appending to `out`. `None` when
    /// the line cannot be Python (a character Python does not use, an unbalanced bracket,
    /// a string left open).
    pub(crate) fn line(&mut self, line: &str, out: &mut Vec<Tok>) -> Option<()> {
        self.backslash = false;
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        if let Some(q) = self.triple {
            match find_triple_end(&chars, 0, q) {
                Some(end) => {
                    self.triple = None;
                    i = end;
                }
                None => return Some(()),
            }
        }
        while i < chars.len() {
            let c = chars[i];
            if c == ' ' || c == '\t' || c == '\u{c}' {
                i += 1;
            } else if c == '#' {
                break;
            } else if c == '\\' {
                if chars[i + 1..].iter().all(|c| c.is_whitespace()) {
                    self.backslash = true;
                    break;
                }
                return None;
            } else if c == '_' || c.is_alphabetic() {
                let start = i;
                while i < chars.len() && (chars[i] == '_' || chars[i].is_alphanumeric()) {
                    i += 1;
                }
                let name: String = chars[start..i].iter().collect();
                let quote = chars.get(i).copied().filter(|q| *q == '\'' || *q == '"');
                match quote {
                    Some(q) if STRING_PREFIXES.contains(&name.to_ascii_lowercase().as_str()) => {
                        i = self.string(&chars, i, q)?;
                        out.push(Tok::Str);
                    }
                    _ => out.push(Tok::Name(name)),
                }
            } else if c.is_ascii_digit()
                || c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)
            {
                i = number_end(&chars, i);
                out.push(Tok::Num);
            } else if c == '\'' || c == '"' {
                i = self.string(&chars, i, c)?;
                out.push(Tok::Str);
            } else if matches!(c, '(' | '[' | '{') {
                self.brackets.push(c);
                out.push(Tok::Open(c));
                i += 1;
            } else if matches!(c, ')' | ']' | '}') {
                let open = self.brackets.pop()?;
                if matching(open) != c {
                    return None;
                }
                out.push(Tok::Close(c));
                i += 1;
            } else {
                let rest: String = chars[i..chars.len().min(i + 3)].iter().collect();
                let op = OPS.iter().find(|op| rest.starts_with(*op))?;
                out.push(Tok::Op(op));
                i += op.chars().count();
            }
        }
        Some(())
    }

    /// Scans a string literal whose quote is at `i`; returns the index after it. A
    /// triple-quoted string may stay open to later lines.
    fn string(&mut self, chars: &[char], i: usize, q: char) -> Option<usize> {
        if chars.get(i + 1) == Some(&q) && chars.get(i + 2) == Some(&q) {
            match find_triple_end(chars, i + 3, q) {
                Some(end) => Some(end),
                None => {
                    self.triple = Some(q);
                    Some(chars.len())
                }
            }
        } else {
            let mut j = i + 1;
            while j < chars.len() {
                match chars[j] {
                    '\\' => j += 2,
                    c if c == q => return Some(j + 1),
                    _ => j += 1,
                }
            }
            None
        }
    }
}

fn matching(open: char) -> char {
    match open {
        '(' => ')',
        '[' => ']',
        _ => '}',
    }
}

fn find_triple_end(chars: &[char], from: usize, q: char) -> Option<usize> {
    let mut j = from;
    while j < chars.len() {
        if chars[j] == '\\' {
            j += 2;
        } else if chars[j] == q && chars.get(j + 1) == Some(&q) && chars.get(j + 2) == Some(&q) {
            return Some(j + 3);
        } else {
            j += 1;
        }
    }
    None
}

fn number_end(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() {
        let c = chars[i];
        let exp_sign = (c == '+' || c == '-')
            && i > 0
            && matches!(chars[i - 1], 'e' | 'E')
            && !chars[..i].iter().any(|c| matches!(c, 'x' | 'X'));
        // A final "." is a full stop, not part of the number.
        let dot = c == '.' && chars.get(i + 1).is_some_and(|n| n.is_ascii_alphanumeric());
        if c.is_ascii_alphanumeric() || c == '_' || exp_sign || dot {
            i += 1;
        } else {
            break;
        }
    }
    i
}

/// Keywords that start statements and never appear inside an expression.
const STATEMENT_KEYWORDS: &[&str] = &[
    "def", "class", "import", "from", "return", "pass", "break", "continue", "raise", "del",
    "global", "nonlocal", "try", "except", "finally", "while", "with", "assert", "elif",
];

/// Keywords that may appear inside an expression as operators.
const EXPR_KEYWORDS: &[&str] = &[
    "and", "or", "not", "in", "is", "if", "else", "for", "lambda", "await", "async", "yield", "as",
];

/// Keywords that are values.
const VALUE_KEYWORDS: &[&str] = &["None", "True", "False"];

fn is_keyword(name: &str) -> bool {
    STATEMENT_KEYWORDS.contains(&name) || EXPR_KEYWORDS.contains(&name)
}

fn is_name(t: &Tok) -> bool {
    matches!(t, Tok::Name(n) if !is_keyword(n))
}

fn is_kw(t: &Tok, kw: &str) -> bool {
    matches!(t, Tok::Name(n) if n == kw)
}

/// A token that can end an operand.
fn ends_operand(t: &Tok) -> bool {
    match t {
        Tok::Name(n) => !is_keyword(n),
        Tok::Num | Tok::Str | Tok::Close(_) => true,
        Tok::Op(op) => *op == "...",
        Tok::Open(_) => false,
    }
}

/// A token that can start an operand.
fn starts_operand(t: &Tok) -> bool {
    match t {
        Tok::Name(n) => !is_keyword(n),
        Tok::Num | Tok::Str => true,
        Tok::Op(op) => *op == "...",
        _ => false,
    }
}

/// Whether `toks` reads as a Python expression (or comma-separated expressions). English
/// fails mostly on two words in a row ("the model") and on a closing full stop.
pub(crate) fn expr_ok(toks: &[Tok]) -> bool {
    let (Some(first), Some(last)) = (toks.first(), toks.last()) else {
        return false;
    };
    let first_ok = starts_operand(first)
        || matches!(first, Tok::Open(_))
        || matches!(first, Tok::Op("-" | "+" | "~" | "*" | "**"))
        || matches!(first, Tok::Name(n) if ["not", "lambda", "await", "yield"].contains(&n.as_str()));
    if !first_ok || !(ends_operand(last) || *last == Tok::Op(",")) {
        return false;
    }
    let mut depth = 0usize;
    let mut lambdas = 0usize;
    for (k, t) in toks.iter().enumerate() {
        let next = toks.get(k + 1);
        match t {
            Tok::Open(_) => depth += 1,
            Tok::Close(_) => depth = depth.saturating_sub(1),
            Tok::Name(n) if STATEMENT_KEYWORDS.contains(&n.as_str()) => {
                // `yield from x` is the one place `from` appears in an expression.
                let yield_from = n == "from" && k > 0 && is_kw(&toks[k - 1], "yield");
                if !yield_from {
                    return false;
                }
            }
            Tok::Name(n) if n == "lambda" && depth == 0 => lambdas += 1,
            Tok::Op(":") if depth == 0 => {
                if lambdas == 0 {
                    return false;
                }
                lambdas -= 1;
            }
            Tok::Op("=") if depth == 0 => return false,
            Tok::Op(op) if is_assign_op(op) => return false,
            Tok::Op(";") | Tok::Op("->") => return false,
            Tok::Op(".") if !next.is_some_and(|n| matches!(n, Tok::Name(_))) => return false,
            _ => {}
        }
        if let Some(n) = next {
            let strings = *t == Tok::Str && *n == Tok::Str;
            if ends_operand(t) && starts_operand(n) && !strings {
                return false;
            }
            if matches!(t, Tok::Name(v) if VALUE_KEYWORDS.contains(&v.as_str()))
                && matches!(n, Tok::Open(_))
            {
                return false;
            }
        }
    }
    true
}

/// `+=`, `**=`, ... (not `=`, comparisons or the walrus).
fn is_assign_op(op: &str) -> bool {
    op.len() >= 2 && op.ends_with('=') && !matches!(op, "==" | "!=" | "<=" | ">=" | ":=")
}

/// Splits at top-level (bracket depth 0) tokens for which `at` holds.
fn split_top(toks: &[Tok], at: impl Fn(&Tok) -> bool) -> Vec<&[Tok]> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (k, t) in toks.iter().enumerate() {
        match t {
            Tok::Open(_) => depth += 1,
            Tok::Close(_) => depth = depth.saturating_sub(1),
            _ if depth == 0 && at(t) => {
                parts.push(&toks[start..k]);
                start = k + 1;
            }
            _ => {}
        }
    }
    parts.push(&toks[start..]);
    parts
}

/// Index just past the bracket group opening at `open`, when it closes.
fn group_end(toks: &[Tok], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (k, t) in toks.iter().enumerate().skip(open) {
        match t {
            Tok::Open(_) => depth += 1,
            Tok::Close(_) => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(k + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// `name(.name | (...) | [...])*`: where the primary ends, and whether it calls.
fn primary(toks: &[Tok]) -> Option<(usize, bool)> {
    let mut k = match toks.first()? {
        t if is_name(t) => 1,
        _ => return None,
    };
    let mut called = false;
    while let Some(t) = toks.get(k) {
        match t {
            Tok::Op(".") if toks.get(k + 1).is_some_and(is_name) => k += 2,
            Tok::Open(c) if *c == '(' || *c == '[' => {
                called = *c == '(';
                k = group_end(toks, k)?;
            }
            _ => break,
        }
    }
    Some((k, called))
}

/// An assignment target: `name`, `a.b`, `a[0]`, `*rest`, or a bracketed tuple of them.
fn target_ok(toks: &[Tok]) -> bool {
    let toks = match toks.first() {
        Some(Tok::Op("*")) => &toks[1..],
        _ => toks,
    };
    match toks.first() {
        Some(Tok::Open(c)) if *c == '(' || *c == '[' => {
            group_end(toks, 0) == Some(toks.len()) && targets_ok(&toks[1..toks.len() - 1], true)
        }
        _ => {
            matches!(primary(toks), Some((end, _)) if end == toks.len())
                && !matches!(toks.last(), Some(Tok::Close(')')))
        }
    }
}

/// Comma-separated targets (a trailing comma is allowed).
fn targets_ok(toks: &[Tok], allow_empty: bool) -> bool {
    if toks.is_empty() {
        return allow_empty;
    }
    let parts = split_top(toks, |t| *t == Tok::Op(","));
    let n = parts.len();
    parts
        .iter()
        .enumerate()
        .all(|(k, p)| target_ok(p) || (p.is_empty() && k == n - 1 && n > 1))
}

/// `x = ...`, `a.b[0] += 1`, `x, y = ...`, `a = b = 0`, `n: int = 0`.
fn assignment(toks: &[Tok]) -> bool {
    let is_aug = |t: &Tok| matches!(t, Tok::Op(op) if is_assign_op(op));
    let parts = split_top(toks, |t| *t == Tok::Op("="));
    if parts.len() >= 2 {
        let (value, targets) = match parts.split_last() {
            Some(x) => x,
            None => return false,
        };
        let first_ok = match annotated(targets[0]) {
            Some(ok) => ok,
            None => targets_ok(targets[0], false),
        };
        return first_ok && targets[1..].iter().all(|t| targets_ok(t, false)) && expr_ok(value);
    }
    // Augmented assignment: one target, one operator.
    let aug: Vec<&[Tok]> = split_top(toks, is_aug);
    if aug.len() == 2 {
        return target_ok(aug[0]) && expr_ok(aug[1]);
    }
    false
}

/// `name: annotation` as the left side of an assignment. `None` when there is no colon.
/// Capitalised names are refused: "Note: x = 1" is prose.
fn annotated(toks: &[Tok]) -> Option<bool> {
    let parts = split_top(toks, |t| *t == Tok::Op(":"));
    if parts.len() != 2 {
        return None;
    }
    let lower =
        matches!(parts[0].first(), Some(Tok::Name(n)) if !n.starts_with(char::is_uppercase));
    Some(lower && target_ok(parts[0]) && expr_ok(parts[1]))
}

/// `import a.b as c, d`.
fn import_names(toks: &[Tok]) -> bool {
    !toks.is_empty()
        && split_top(toks, |t| *t == Tok::Op(",")).iter().all(|part| {
            let (path, alias) = match part.iter().position(|t| is_kw(t, "as")) {
                Some(k) => (&part[..k], Some(&part[k + 1..])),
                None => (*part, None),
            };
            dotted(path) && alias.is_none_or(|a| a.len() == 1 && is_name(&a[0]))
        })
}

/// `a`, `a.b.c`.
fn dotted(toks: &[Tok]) -> bool {
    !toks.is_empty()
        && toks.iter().enumerate().all(|(k, t)| {
            if k % 2 == 0 {
                is_name(t)
            } else {
                *t == Tok::Op(".")
            }
        })
        && toks.len() % 2 == 1
}

/// `from .a.b import x as y, z` / `from a import (x, y)` / `from a import *`.
fn from_import(toks: &[Tok]) -> bool {
    let Some(imp) = toks.iter().position(|t| is_kw(t, "import")) else {
        return false;
    };
    let module = &toks[1..imp];
    let dots = module
        .iter()
        .take_while(|t| matches!(t, Tok::Op("." | "...")))
        .count();
    let module_ok = (dots > 0 && module.len() == dots) || dotted(&module[dots..]);
    let names = &toks[imp + 1..];
    let names_ok = match names {
        [Tok::Op("*")] => true,
        [Tok::Open('('), inner @ .., Tok::Close(')')] => {
            let inner = match inner.last() {
                Some(Tok::Op(",")) => &inner[..inner.len() - 1],
                _ => inner,
            };
            import_names(inner) && inner.iter().all(|t| *t != Tok::Op("."))
        }
        _ => import_names(names) && names.iter().all(|t| *t != Tok::Op(".")),
    };
    module_ok && names_ok
}

/// What a logical line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Line {
    /// A compound statement header ending in `:`; an indented body must follow.
    Header,
    /// Any other statement.
    Simple,
}

/// Classifies a logical line. `strict` asks for an unmistakable statement shape (the
/// first line of a paragraph); otherwise, inside a block body, any expression statement
/// is accepted (docstrings, `x.append(1)`, `a + b`).
pub(crate) fn classify(toks: &[Tok], strict: bool, in_body: bool) -> Option<Line> {
    let first = toks.first()?;
    if let Tok::Name(kw) = first {
        let compound = [
            "if", "elif", "else", "while", "for", "with", "try", "except", "finally", "def",
            "class", "async", "match", "case",
        ];
        if compound.contains(&kw.as_str()) {
            if let Some(line) = compound_stmt(toks) {
                return Some(line);
            }
            if !["match", "case"].contains(&kw.as_str()) {
                return None;
            }
        }
    }
    if *first == Tok::Op("@") {
        return (primary(&toks[1..]).is_some_and(|(end, _)| end + 1 == toks.len())
            && expr_ok(&toks[1..]))
        .then_some(Line::Simple);
    }
    let parts = split_top(toks, |t| *t == Tok::Op(";"));
    let n = parts.len();
    let all = parts
        .iter()
        .enumerate()
        .all(|(k, p)| (p.is_empty() && k == n - 1 && n > 1) || simple_stmt(p, strict, in_body));
    all.then_some(Line::Simple)
}

fn simple_stmt(toks: &[Tok], strict: bool, in_body: bool) -> bool {
    let Some(first) = toks.first() else {
        return false;
    };
    let rest = &toks[1..];
    if let Tok::Name(kw) = first {
        match kw.as_str() {
            "import" => return import_names(rest),
            "from" => return from_import(toks),
            "pass" | "break" | "continue" => return rest.is_empty(),
            "return" => return rest.is_empty() || expr_ok(rest),
            "yield" | "await" => return expr_ok(toks),
            "raise" => {
                let parts = split_top(rest, |t| is_kw(t, "from"));
                return rest.is_empty() || parts.len() <= 2 && parts.iter().all(|p| expr_ok(p));
            }
            "assert" | "del" => return expr_ok(rest),
            "global" | "nonlocal" => {
                return split_top(rest, |t| *t == Tok::Op(","))
                    .iter()
                    .all(|p| p.len() == 1 && is_name(&p[0]))
            }
            _ => {}
        }
    }
    if assignment(toks) {
        return true;
    }
    // A call spanning the whole line: `print(x)`, `df.groupby("a").sum()`.
    if matches!(primary(toks), Some((end, true)) if end == toks.len()) && expr_ok(toks) {
        return true;
    }
    if strict {
        return false;
    }
    // Any other expression statement, where code is already established. At top level a
    // bare word could be a stray English word: ask for some operator or bracket.
    expr_ok(toks) && (in_body || toks.len() > 1)
}

/// Headers: `if x:`, `for a, b in c:`, `def f(x) -> int:`, `class A(B):`, `with a as b:`,
/// `except E as e:`, `else:`, ... with an optional one-line body after the colon.
fn compound_stmt(toks: &[Tok]) -> Option<Line> {
    let colon = header_colon(toks)?;
    let head = &toks[..colon];
    let body = &toks[colon + 1..];
    let Tok::Name(kw) = head.first()? else {
        return None;
    };
    let rest = &head[1..];
    let ok = match kw.as_str() {
        "if" | "elif" | "while" | "match" | "case" => {
            expr_ok(rest) || kw == "case" && case_ok(rest)
        }
        "else" | "try" | "finally" => rest.is_empty(),
        "for" => {
            let parts = split_top(rest, |t| is_kw(t, "in"));
            parts.len() >= 2 && targets_ok(parts[0], false) && expr_ok(&rest[parts[0].len() + 1..])
        }
        "with" => split_top(rest, |t| *t == Tok::Op(",")).iter().all(|item| {
            match item.iter().position(|t| is_kw(t, "as")) {
                Some(k) => expr_ok(&item[..k]) && target_ok(&item[k + 1..]),
                None => expr_ok(item),
            }
        }),
        "except" => {
            let rest = match rest.first() {
                Some(Tok::Op("*")) => &rest[1..],
                _ => rest,
            };
            rest.is_empty()
                || match rest.iter().position(|t| is_kw(t, "as")) {
                    Some(k) => expr_ok(&rest[..k]) && rest.len() == k + 2 && is_name(&rest[k + 1]),
                    None => expr_ok(rest),
                }
        }
        "def" => {
            is_name(rest.first()?)
                && rest.get(1) == Some(&Tok::Open('('))
                && group_end(rest, 1).is_some_and(|end| {
                    let params = &rest[1..end];
                    let ret = &rest[end..];
                    (params.len() == 2 || expr_ok(params))
                        && (ret.is_empty() || ret[0] == Tok::Op("->") && expr_ok(&ret[1..]))
                })
        }
        "class" => {
            is_name(rest.first()?)
                && (rest.len() == 1
                    || rest.get(1) == Some(&Tok::Open('('))
                        && group_end(rest, 1) == Some(rest.len())
                        && (rest.len() == 3 || expr_ok(&rest[1..])))
        }
        "async" => {
            return match rest.first() {
                Some(Tok::Name(n)) if ["def", "for", "with"].contains(&n.as_str()) => {
                    compound_stmt(&toks[1..])
                }
                _ => None,
            }
        }
        _ => false,
    };
    if !ok {
        return None;
    }
    if body.is_empty() {
        return Some(Line::Header);
    }
    let parts = split_top(body, |t| *t == Tok::Op(";"));
    let n = parts.len();
    parts
        .iter()
        .enumerate()
        .all(|(k, p)| (p.is_empty() && k == n - 1 && n > 1) || simple_stmt(p, false, true))
        .then_some(Line::Simple)
}

/// Patterns in `case` are close enough to expressions, except `case x if guard`.
fn case_ok(rest: &[Tok]) -> bool {
    let parts = split_top(rest, |t| is_kw(t, "if"));
    parts.len() == 2 && expr_ok(parts[0]) && expr_ok(parts[1])
}

/// The colon that ends a compound statement header (not one in brackets or a lambda).
fn header_colon(toks: &[Tok]) -> Option<usize> {
    let mut depth = 0usize;
    let mut lambdas = 0usize;
    for (k, t) in toks.iter().enumerate() {
        match t {
            Tok::Open(_) => depth += 1,
            Tok::Close(_) => depth = depth.saturating_sub(1),
            Tok::Name(n) if n == "lambda" && depth == 0 => lambdas += 1,
            Tok::Op(":") if depth == 0 => {
                if lambdas == 0 {
                    return Some(k);
                }
                lambdas -= 1;
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(line: &str) -> Option<Vec<Tok>> {
        let mut lx = Lexer::default();
        let mut out = Vec::new();
        lx.line(line, &mut out)?;
        (!lx.continues()).then_some(out)
    }

    fn strict(line: &str) -> Option<Line> {
        classify(&toks(line)?, true, false)
    }

    #[test]
    fn statements_recognised() {
        for line in [
            "import imgaug",
            "import torch.nn as nn, os",
            "from sklearn.metrics import mean_squared_error",
            "from . import x",
            "from ..a import (b, c,)",
            "from os.path import *",
            "x = 1",
            "a.b[0] += 1",
            "x, y = y, x",
            "(a, b) = t",
            "a = b = 0",
            "n: int = 0",
            "first, *rest = items",
            "rf = RandomForestClassifier(n_estimators=100)",
            "svm = SVC(kernel='linear', C=1)",
            "print(\"hello\")",
            "df.groupby('a').sum()",
            "plt.show()",
            "return x + 1",
            "return",
            "raise ValueError('bad') from e",
            "assert x == 1, 'message'",
            "pass",
            "del d['k']",
            "global counter",
            "x = 1; y = 2",
            "f = lambda x: x * 2",
            "squares = [n ** 2 for n in range(10) if n % 2]",
            "d = {'a': 1, 'b': [1, 2]}",
            "s = f\"{x!r:>10}\"",
            "total = sum(x for x in xs)",
            "y = x if x is not None else 0",
            "@dataclass",
            "@app.route('/')",
            "value = -1.5e-3",
            "print(n := len(a))",
            "mask = ~a & b | c ^ d",
        ] {
            assert_eq!(strict(line), Some(Line::Simple), "{line}");
        }
        for line in [
            "def f(x, y=1, *args, **kw) -> int:",
            "def f():",
            "async def main():",
            "class A(Base, metaclass=M):",
            "class A:",
            "if x > 0:",
            "elif not done:",
            "else:",
            "for i, x in enumerate(xs):",
            "while True:",
            "with open(p) as f, lock:",
            "try:",
            "except (KeyError, ValueError) as e:",
            "except:",
            "finally:",
            "match command.split():",
            "case [x, y]:",
            "case Point(x=0) if flag:",
        ] {
            assert_eq!(strict(line), Some(Line::Header), "{line}");
        }
        assert_eq!(strict("if x: return 1"), Some(Line::Simple));
    }

    #[test]
    fn prose_refused() {
        for line in [
            "Intermediate Interview Questions",
            "Q3. How do you implement data augmentation in a computer vision task?",
            "  • Practice implementing machine learning algorithms from scratch",
            "View Our Services → Contact Us",
            "Bhaskar Soni",
            "Leave a Reply",
            "For example,",
            "The value x = 5 is used here.",
            "learning_rate = 0.01 is a good default.",
            "x = the number of samples",
            "Set x = 5 to start.",
            "Call fit() to train the model.",
            "fit(X, y) trains the model",
            "Use the function (see below) for this.",
            "import your data first.",
            "return the result.",
            "pass the value along",
            "if needed, restart it.",
            "Note: x = 5",
            "Example: foo",
            "Connect on GitHub: github.com/bhaskar-Soni",
            "The model’s performance improves.",
            "x = 3.",
            "Don't do this",
            "Use C# for that",
            "print",
            "Hello",
            "class imbalance can be handled:",
            "for example:",
            "with the following:",
            "Overfitting (too complex) = bad",
            "f(x) = x^2",
            "1 + 1 = 2",
            "Python 3.12",
            "step 1: import the data",
            ">>> import os",
            "... x = 1",
            "None",
            "else: whatever you like",
            "try: this instead",
        ] {
            assert_eq!(strict(line), None, "{line}");
        }
    }

    #[test]
    fn expression_statements_only_outside_strict() {
        let t = toks("x.y + 1").unwrap();
        assert_eq!(classify(&t, true, false), None);
        assert_eq!(classify(&t, false, false), Some(Line::Simple));
        let t = toks("\"\"\"Docstring.\"\"\"").unwrap();
        assert_eq!(classify(&t, false, true), Some(Line::Simple));
        let t = toks("result").unwrap();
        assert_eq!(classify(&t, false, false), None);
        assert_eq!(classify(&t, false, true), Some(Line::Simple));
    }

    #[test]
    fn lexer_continuations() {
        let mut lx = Lexer::default();
        let mut out = Vec::new();
        lx.line("x = f(1,", &mut out).unwrap();
        assert!(lx.continues());
        lx.line("      2)", &mut out).unwrap();
        assert!(!lx.continues());
        lx.line("s = \"\"\"start", &mut out).unwrap();
        assert!(lx.continues());
        lx.line("middle ' \" words", &mut out).unwrap();
        lx.line("end\"\"\"", &mut out).unwrap();
        assert!(!lx.continues());
        lx.line("y = 1 + \\", &mut out).unwrap();
        assert!(lx.continues());
        assert!(Lexer::default().line("a = (1]", &mut Vec::new()).is_none());
        assert!(Lexer::default()
            .line("a = 'open", &mut Vec::new())
            .is_none());
        assert!(Lexer::default()
            .line("a = 1 $ 2", &mut Vec::new())
            .is_none());
    }
}

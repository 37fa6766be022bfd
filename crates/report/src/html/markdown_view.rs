//! A Markdown document rendered by pulldown-cmark, its events rewritten on the way: the
//! code blocks that are examples become the report's example frames, text holding a claim
//! gets its mark, and whatever could act in the report's page is defused (the document's raw
//! HTML is shown as text, comments dropped as a reader never sees them, images reduced to
//! their description so nothing is fetched, links kept only to web, mail and relative
//! addresses). Headings move below the report's own.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd, TextMergeWithOffset};

use super::document::{write_claim, write_example, write_marked, Marks};
use super::{escape, Page};

pub(super) fn write(out: &mut String, page: &Page, marks: &mut Marks, text: &str) {
    let options = Options::ENABLE_YAML_STYLE_METADATA_BLOCKS
        | Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS;
    // Adjacent text (split where `_` or `*` might have begun emphasis) is one piece, so a
    // name such as `os._exit` is found whole.
    let mut parser = TextMergeWithOffset::new(Parser::new_ext(text, options).into_offset_iter());
    let mut events: Vec<Event> = Vec::new();
    // Per open link: whether it was kept (an unsafe one becomes plain text).
    let mut links: Vec<bool> = Vec::new();
    while let Some((event, range)) = parser.next() {
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                let first = marks.lines.line_of(range.start);
                let last = marks.lines.line_of(range.end.saturating_sub(1));
                match marks.example_within(first, last) {
                    Some(entry) => {
                        skip_to(&mut parser, TagEnd::CodeBlock);
                        let mut html = String::new();
                        write_example(&mut html, page, entry);
                        marks.place_example(entry);
                        events.push(Event::Html(html.into()));
                    }
                    None => events.push(Event::Start(Tag::CodeBlock(kind))),
                }
            }
            Event::Text(words) => {
                let claims = marks.claims_in(range.clone());
                if claims.is_empty() {
                    events.push(Event::Text(words));
                    continue;
                }
                // Offsets hold only where the text is the source as written (no entities
                // or escapes decoded); elsewhere the name is looked for.
                let verbatim = text.get(range.clone()) == Some(&*words);
                let wanted: Vec<_> = claims
                    .iter()
                    .map(|&(offset, r)| (verbatim.then(|| offset - range.start), r))
                    .collect();
                let mut html = String::new();
                write_marked(&mut html, page, marks, &words, &wanted);
                events.push(Event::Html(html.into()));
            }
            Event::Code(code) => match marks.claims_in(range).first() {
                Some(&(_, reference)) => {
                    let mut html = String::new();
                    write_claim(
                        &mut html,
                        page,
                        reference,
                        &format!("<code>{}</code>", escape(&code)),
                    );
                    marks.place_claim(reference);
                    events.push(Event::Html(html.into()));
                }
                None => events.push(Event::Code(code)),
            },
            Event::Start(Tag::HtmlBlock) => {
                let raw = collect_html(&mut parser);
                if !is_comment(&raw) {
                    events.push(Event::Html(
                        format!("<pre class=\"raw-html\">{}</pre>\n", escape(&raw)).into(),
                    ));
                }
            }
            Event::Html(raw) | Event::InlineHtml(raw) => {
                if !is_comment(&raw) {
                    events.push(Event::Text(raw));
                }
            }
            Event::Start(Tag::Image { .. }) => {
                let description = collect_text(&mut parser, TagEnd::Image);
                events.push(Event::Html(
                    format!(
                        "<span class=\"image\">[image: {}]</span>",
                        escape(&description)
                    )
                    .into(),
                ));
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let kept = is_safe_url(&dest_url);
                links.push(kept);
                events.push(if kept {
                    Event::Start(Tag::Link {
                        link_type,
                        dest_url,
                        title,
                        id,
                    })
                } else {
                    Event::Html("<span class=\"link\">".into())
                });
            }
            Event::End(TagEnd::Link) => {
                events.push(if links.pop().unwrap_or(false) {
                    Event::End(TagEnd::Link)
                } else {
                    Event::Html("</span>".into())
                });
            }
            Event::Start(Tag::MetadataBlock(kind)) => {
                skip_to(&mut parser, TagEnd::MetadataBlock(kind))
            }
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs,
            }) => events.push(Event::Start(Tag::Heading {
                level: below_the_report(level),
                id,
                classes,
                attrs,
            })),
            Event::End(TagEnd::Heading(level)) => {
                events.push(Event::End(TagEnd::Heading(below_the_report(level))))
            }
            other => events.push(other),
        }
    }
    pulldown_cmark::html::push_html(out, events.into_iter());
}

/// The report has h1 to h3 above a document: its h1 becomes an h4, and so on.
fn below_the_report(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H4,
        HeadingLevel::H2 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

fn skip_to<'a>(
    events: &mut impl Iterator<Item = (Event<'a>, std::ops::Range<usize>)>,
    end: TagEnd,
) {
    for (event, _) in events {
        if event == Event::End(end) {
            return;
        }
    }
}

/// The raw HTML of a block, up to its end.
fn collect_html<'a>(
    events: &mut impl Iterator<Item = (Event<'a>, std::ops::Range<usize>)>,
) -> String {
    let mut raw = String::new();
    for (event, _) in events {
        match event {
            Event::Html(part) | Event::Text(part) => raw.push_str(&part),
            Event::End(TagEnd::HtmlBlock) => break,
            _ => {}
        }
    }
    raw
}

/// The text inside an element (an image's description), up to its end.
fn collect_text<'a>(
    events: &mut impl Iterator<Item = (Event<'a>, std::ops::Range<usize>)>,
    end: TagEnd,
) -> String {
    let mut text = String::new();
    for (event, _) in events {
        match event {
            Event::Text(part) | Event::Code(part) => text.push_str(&part),
            event if event == Event::End(end) => break,
            _ => {}
        }
    }
    text
}

/// One or more HTML comments and nothing else (snipcheck's markers among them).
fn is_comment(raw: &str) -> bool {
    let mut rest = raw.trim();
    if rest.is_empty() {
        return false;
    }
    while let Some(after) = rest.strip_prefix("<!--") {
        match after.find("-->") {
            Some(end) => rest = after[end + 3..].trim_start(),
            None => return false,
        }
    }
    rest.is_empty()
}

/// Web, mail and relative addresses; not `javascript:` or any other scheme that acts.
fn is_safe_url(url: &str) -> bool {
    match url.find([':', '/', '?', '#']) {
        Some(i) if url[i..].starts_with(':') => {
            matches!(
                url[..i].to_ascii_lowercase().as_str(),
                "http" | "https" | "mailto"
            )
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_harmless_addresses_stay_links() {
        for url in [
            "https://example.org",
            "guide.md#install",
            "#top",
            "../a/b",
            "mailto:x@y.z",
            "HTTP://x",
        ] {
            assert!(is_safe_url(url), "{url}");
        }
        for url in [
            "javascript:alert(1)",
            "JavaScript:x",
            "data:text/html,x",
            "vbscript:x",
        ] {
            assert!(!is_safe_url(url), "{url}");
        }
    }

    #[test]
    fn comments_are_recognized_whole() {
        assert!(is_comment("<!-- snipcheck: skip -->\n"));
        assert!(is_comment("<!-- a -->  <!-- b -->"));
        assert!(!is_comment("<!-- a --> <b>x</b>"));
        assert!(!is_comment("<script>x</script>"));
        assert!(!is_comment("<!-- open"));
    }
}

//! The default site theme's `quote.html`, compiled to Rust.
//!
//! A large study renders every quote once (once per page depth for some site
//! themes), and through Tera that costs about 13 µs a quote: building the
//! template context from the view and interpreting the template took about 1.3 s
//! of CPU at 100,000 quotes, more than loading the whole study. This function
//! writes the same bytes directly. It is used only while the site theme's
//! `quote.html` is the built-in one, character for character
//! ([`super::SiteTheme::quote_is_builtin`]); a site theme that brings its own
//! `quote.html` goes through Tera as before. The tests below render quotes of
//! every shape both ways and compare the bytes, so the two cannot drift apart:
//! change `themes/default/templates/quote.html` and this function together.

use pulldown_cmark_escape::escape_html;

use super::views::QuoteView;

/// What Tera's auto-escaping writes for a printed string: its `fast` feature
/// escapes with this same function.
pub(crate) fn push_escaped(out: &mut String, s: &str) {
    // Writing to a String cannot fail.
    let _ = escape_html(out, s);
}

/// Appends each paragraph as `<p>…</p>`.
fn push_paragraphs(out: &mut String, paragraphs: &[std::borrow::Cow<'_, str>]) {
    for p in paragraphs {
        out.push_str("<p>");
        push_escaped(out, p);
        out.push_str("</p>");
    }
}

/// A link to `root` + `url`, labelled `title`: `<a href="{{ root }}{{ url }}">{{ title }}</a>`.
pub(super) fn push_link(out: &mut String, root: &str, url: &str, title: &str) {
    out.push_str("<a href=\"");
    push_escaped(out, root);
    push_escaped(out, url);
    out.push_str("\">");
    push_escaped(out, title);
    out.push_str("</a>");
}

/// The quote's HTML, byte for byte what the default `quote.html` renders with
/// the same `quote`, `root` and `embed`.
pub(crate) fn render(q: &QuoteView<'_>, root: &str, embed: bool) -> String {
    let text: usize = q.paragraphs.iter().map(|p| p.len() + 7).sum();
    let mut out = String::with_capacity(text + 700);
    out.push_str("<figure class=\"quote");
    if embed {
        out.push_str(" quote-embed");
    }
    if q.draft {
        out.push_str(" is-draft");
    }
    out.push_str("\" id=\"");
    push_escaped(&mut out, &q.anchor);
    out.push_str("\" data-quote-id=\"");
    push_escaped(&mut out, q.id);
    out.push_str("\" data-site=\"");
    push_escaped(&mut out, q.site.id);
    out.push_str("\" data-group=\"");
    push_escaped(&mut out, q.group.id);
    out.push_str("\" data-themes=\"");
    push_escaped(&mut out, &q.theme_ids);
    out.push_str("\">\n<blockquote>");
    push_paragraphs(&mut out, &q.paragraphs);
    out.push_str("</blockquote>\n");
    if let Some(o) = &q.original {
        out.push_str("<p class=\"original-label\">Original (");
        push_escaped(&mut out, &o.language);
        out.push_str(")</p>\n<blockquote class=\"original\" lang=\"");
        push_escaped(&mut out, o.lang);
        out.push_str("\" dir=\"");
        push_escaped(&mut out, o.dir);
        out.push_str("\">");
        push_paragraphs(&mut out, &o.paragraphs);
        out.push_str("</blockquote>\n");
    }
    // Tera treats an empty string as false.
    if let Some(context) = q.context.filter(|c| !c.is_empty()) {
        out.push_str("<p class=\"context\">");
        push_escaped(&mut out, context);
        out.push_str("</p>\n");
    }
    out.push_str("<figcaption>");
    if q.draft {
        out.push_str("<span class=\"draft-badge\">Draft</span> ");
    }
    out.push_str("<span class=\"participant\">");
    push_escaped(&mut out, q.participant);
    out.push_str("</span>, ");
    push_link(&mut out, root, q.site.url, q.site.title);
    out.push_str(", ");
    push_link(&mut out, root, q.group.url, q.group.title);
    out.push_str("<span class=\"quote-themes\"> · ");
    for (i, t) in q.themes.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_link(&mut out, root, t.url, t.title);
    }
    out.push_str("</span> <a class=\"permalink\" href=\"");
    if embed {
        push_escaped(&mut out, root);
        push_escaped(&mut out, q.url);
    } else {
        out.push('#');
        push_escaped(&mut out, &q.anchor);
    }
    out.push_str(
        "\" title=\"Link to this quote\">#<span class=\"visually-hidden\"> link to quote ",
    );
    push_escaped(&mut out, q.id);
    out.push_str("</span></a></figcaption>\n</figure>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::site_theme::BUILTIN_TEMPLATES;
    use crate::render::views::{OriginalView, QuoteTag};

    fn tera_render(view: &QuoteView<'_>, root: &str, embed: bool) -> String {
        let (_, src) = BUILTIN_TEMPLATES
            .iter()
            .find(|(n, _)| *n == "quote.html")
            .expect("the default theme has quote.html");
        // As `site_theme::load` sets it up.
        let mut tera = tera::Tera::new();
        tera.autoescape_on(vec![".html", ".xml"]);
        tera.add_raw_template("quote.html", src).unwrap();
        let mut ctx = tera::Context::new();
        ctx.insert("quote", view);
        ctx.insert("root", root);
        ctx.insert("embed", &embed);
        tera.render("quote.html", &ctx).unwrap()
    }

    fn tag<'a>(id: &'a str, title: &'a str, url: &'a str) -> QuoteTag<'a> {
        QuoteTag { id, title, url }
    }

    fn view<'a>(words: &[&'a str], n: usize) -> QuoteView<'a> {
        let w = |k: usize| words[(n * 7 + k * 13) % words.len()];
        QuoteView {
            id: w(0),
            anchor: format!("q-{}", w(1)),
            url: w(2),
            participant: w(3),
            site: tag(w(4), w(5), "sites/s/"),
            group: tag(w(6), w(7), w(8)),
            themes: (0..n % 4)
                .map(|k| tag(w(9 + k), w(10 + k), "themes/t/"))
                .collect(),
            theme_ids: w(14).to_string(),
            paragraphs: (0..n % 3).map(|k| w(15 + k).into()).collect(),
            original: (n % 2 == 1).then(|| OriginalView {
                lang: w(18),
                language: w(22).into(),
                dir: if n % 4 == 1 { "rtl" } else { "ltr" },
                paragraphs: (0..(n / 2) % 3).map(|k| w(19 + k).into()).collect(),
            }),
            context: match n % 3 {
                0 => None,
                1 => Some(""),
                _ => Some(w(22)),
            },
            draft: n % 5 == 0,
        }
    }

    #[test]
    fn writes_what_the_default_template_renders() {
        let words = [
            "plain",
            "",
            "a <b> & \"c\" 'd'",
            "Ünïcödé ש\u{05c1}לוֹם",
            "&amp; already escaped",
            "../../",
            "\u{1}",
            "x/y=z?a#b",
            "tab\tand\nnewline",
            "emoji 🙂 and <script>alert(1)</script>",
            "`back` {{ not }} {% a %}",
        ];
        for n in 0..200 {
            let v = view(&words, n);
            for root in ["", "../", "../../../", "\u{1}"] {
                for embed in [false, true] {
                    assert_eq!(
                        render(&v, root, embed),
                        tera_render(&v, root, embed),
                        "quote {n}, root {root:?}, embed {embed}"
                    );
                }
            }
        }
    }
}

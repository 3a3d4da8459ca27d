//! The quote filter of a page that lists quotes: which controls it offers and their
//! options. The filtering itself runs in the reader's browser (`static/thematic.js`),
//! on the `data-site`, `data-group` and `data-themes` attributes of each quote.

use serde::Serialize;

use crate::model::{QuoteIx, Study, ThemeIx};

/// What a quote list is about: a control is left out when the page is about one
/// value of it (a site page needs no site filter).
#[derive(Debug, Clone, Copy)]
pub(crate) enum ListOf {
    Everything,
    Theme(ThemeIx),
    /// A theme's quotes at one site.
    ThemeAtSite(ThemeIx),
    Site,
    Group,
}

/// The controls of one page's filter. An empty list means the control is left out.
#[derive(Debug, Serialize)]
pub(crate) struct QuoteFilter {
    /// Quotes in the list.
    pub total: usize,
    pub sites: Vec<FilterOption>,
    pub groups: Vec<FilterOption>,
    /// Themes in tree order; `label` is indented by depth below the page's theme.
    pub themes: Vec<FilterOption>,
    /// The `<option>` elements of each control, as HTML: made once for a list
    /// rather than by the template on every one of its pages (at 50 sites and 40
    /// themes, a tenth of each page's rendering).
    pub site_options: String,
    pub group_options: String,
    pub theme_options: String,
}

impl QuoteFilter {
    /// True when the filter offers some choice: a list all of one site, one
    /// group and no subthemes has nothing to filter, and shows no filter.
    pub fn has_choices(&self) -> bool {
        !(self.sites.is_empty() && self.groups.is_empty() && self.themes.is_empty())
    }
}

/// `<option value="ID">LABEL</option>` for each option, escaped as templates
/// escape.
fn options_html(options: &[FilterOption]) -> String {
    let mut out = String::new();
    for o in options {
        out.push_str("<option value=\"");
        super::quote_html::push_escaped(&mut out, &o.id);
        out.push_str("\">");
        super::quote_html::push_escaped(&mut out, &o.label);
        out.push_str("</option>");
    }
    out
}

#[derive(Debug, Serialize)]
pub(crate) struct FilterOption {
    pub id: String,
    pub label: String,
}

/// The filter for a list of `quotes`. `subtree_end[t]` ends theme `t`'s subtree in
/// tree order (themes `t..subtree_end[t]`).
pub(crate) fn quote_filter(
    study: &Study,
    subtree_end: &[usize],
    quotes: &[QuoteIx],
    about: ListOf,
) -> QuoteFilter {
    let mut site_seen = vec![false; study.sites.len()];
    let mut group_seen = vec![false; study.groups.len()];
    let mut theme_seen = vec![false; study.themes.len()];
    for &q in quotes {
        let quote = &study.quotes[q];
        site_seen[quote.site] = true;
        group_seen[quote.group] = true;
        for &t in &quote.themes {
            theme_seen[t] = true;
        }
    }
    // A theme's quotes are its subthemes' too: children come after their parent
    // in tree order, so one backward pass carries every mark up to the root.
    for t in (0..study.themes.len()).rev() {
        if let (true, Some(p)) = (theme_seen[t], study.themes[t].parent) {
            theme_seen[p] = true;
        }
    }
    let option = |c: &crate::model::Common, depth: usize| FilterOption {
        id: c.id.clone(),
        label: format!("{}{}", "\u{2013}\u{a0}".repeat(depth), c.title),
    };

    let sites: Vec<FilterOption> = match about {
        ListOf::Site | ListOf::ThemeAtSite(_) => Vec::new(),
        _ => (0..study.sites.len())
            .filter(|&s| site_seen[s])
            .map(|s| option(&study.sites[s].common, 0))
            .collect(),
    };
    let groups: Vec<FilterOption> = match about {
        ListOf::Group => Vec::new(),
        _ => (0..study.groups.len())
            .filter(|&g| group_seen[g])
            .map(|g| option(&study.groups[g].common, 0))
            .collect(),
    };
    // On a theme's page the choice is among its subthemes: the theme itself is "all".
    let (themes, base_depth) = match about {
        ListOf::Theme(t) | ListOf::ThemeAtSite(t) => {
            (t + 1..subtree_end[t], study.themes[t].depth + 1)
        }
        _ => (0..study.themes.len(), 0),
    };
    let themes: Vec<FilterOption> = themes
        .filter(|&t| theme_seen[t])
        .map(|t| option(&study.themes[t].common, study.themes[t].depth - base_depth))
        .collect();

    let (sites, groups) = (at_least_two(sites), at_least_two(groups));
    let themes = match about {
        ListOf::Theme(_) | ListOf::ThemeAtSite(_) => themes,
        _ => at_least_two(themes),
    };
    QuoteFilter {
        total: quotes.len(),
        site_options: options_html(&sites),
        group_options: options_html(&groups),
        theme_options: options_html(&themes),
        sites,
        groups,
        themes,
    }
}

/// A control with a single choice filters nothing.
fn at_least_two(options: Vec<FilterOption>) -> Vec<FilterOption> {
    if options.len() < 2 {
        Vec::new()
    } else {
        options
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_what_the_template_loop_writes() {
        let options: Vec<FilterOption> = [
            ("site-1", "Ulm & Günzburg"),
            ("t<1>", "\u{2013}\u{a0}\"Quoted\" 'title'"),
            ("plain", "Plain"),
        ]
        .iter()
        .map(|(id, label)| FilterOption {
            id: id.to_string(),
            label: label.to_string(),
        })
        .collect();
        let mut tera = tera::Tera::new();
        tera.autoescape_on(vec![".html"]);
        tera.add_raw_template(
            "options.html",
            "{% for o in options %}<option value=\"{{ o.id }}\">{{ o.label }}</option>{% endfor %}",
        )
        .unwrap();
        for n in 0..=options.len() {
            let mut ctx = tera::Context::new();
            ctx.insert("options", &options[..n]);
            let by_tera = tera.render("options.html", &ctx).unwrap();
            assert_eq!(options_html(&options[..n]), by_tera);
        }
    }
}

//! Where each page lives. Every path is relative to the site root and names
//! `index.html` explicitly, so links work from `file://` as well as from any
//! web server or sub-path.

/// The home page.
pub const HOME: &str = "index.html";
/// The codebook.
pub const THEMES: &str = "themes/index.html";
/// The list of sites.
pub const SITES: &str = "sites/index.html";
/// The list of groups.
pub const GROUPS: &str = "groups/index.html";
/// The list of findings.
pub const FINDINGS: &str = "findings/index.html";
/// Every quote.
pub const QUOTES: &str = "quotes/index.html";
/// The open data page; the data files sit beside it.
pub const DATA: &str = "data/index.html";
/// The search page; its index is in `search/`.
pub const SEARCH: &str = "search/index.html";
/// The not-found page.
pub const NOT_FOUND: &str = "404.html";

/// A theme's page.
pub fn theme(id: &str) -> String {
    format!("themes/{id}/index.html")
}

/// A theme at one site.
pub fn theme_site(theme: &str, site: &str) -> String {
    format!("themes/{theme}/{site}/index.html")
}

/// A site's page.
pub fn site(id: &str) -> String {
    format!("sites/{id}/index.html")
}

/// A group's page.
pub fn group(id: &str) -> String {
    format!("groups/{id}/index.html")
}

/// A findings page.
pub fn finding(id: &str) -> String {
    format!("findings/{id}/index.html")
}

/// The anchor id of a quote on any page that shows it.
pub fn quote_anchor(id: &str) -> String {
    let mut anchor = String::with_capacity(id.len() + 2);
    push_quote_anchor(&mut anchor, id);
    anchor
}

/// Appends [`quote_anchor`] to `out`, for links made by the hundred thousand.
pub fn push_quote_anchor(out: &mut String, id: &str) {
    out.push_str("q-");
    out.push_str(id);
}

/// The prefix that leads from a page at `path` back to the site root (`""`, `"../"`, ...).
pub fn root_prefix(path: &str) -> String {
    "../".repeat(path.matches('/').count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(root_prefix(HOME), "");
        assert_eq!(root_prefix(THEMES), "../");
        assert_eq!(root_prefix(&theme_site("a", "b")), "../../../");
    }
}

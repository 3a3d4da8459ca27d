//! Scholarly metadata: how to cite the study (plain text, BibTeX, `CITATION.cff`),
//! the schema.org JSON-LD and Highwire `citation_*` tags of the home page, and
//! `robots.txt`. Everything comes from study.yaml; nothing is invented: a field the
//! author did not give is left out, never guessed.

use serde::Serialize;
use serde_json::{Value, json};

use super::urls;
use crate::load::Author;
use crate::model::Meta;

/// What templates see as `citation`.
#[derive(Debug, Clone, Serialize)]
pub struct Citation {
    /// The citation as plain text: study.yaml's `citation`, or derived.
    pub text: String,
    /// A BibTeX entry.
    pub bibtex: String,
    /// The schema.org description of the study, as JSON text safe inside `<script>`.
    pub json_ld: String,
    /// `<meta name="citation_*">` tags.
    pub meta: Vec<MetaTag>,
}

/// One `<meta name content>` tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetaTag {
    /// `name`.
    pub name: String,
    /// `content`.
    pub content: String,
}

/// The citation of a study.
pub fn citation(meta: &Meta) -> Citation {
    Citation {
        text: meta.citation.clone().unwrap_or_else(|| plain(meta)),
        bibtex: bibtex(meta),
        json_ld: serde_json::to_string_pretty(&json_ld(meta))
            .unwrap_or_default()
            .replace("</", "<\\/"),
        meta: highwire(meta),
    }
}

fn year(meta: &Meta) -> Option<&str> {
    meta.published.as_deref().and_then(|d| d.get(..4))
}

fn full_title(meta: &Meta) -> String {
    match &meta.subtitle {
        Some(s) => format!("{}: {s}", meta.title),
        None => meta.title.clone(),
    }
}

/// Where the study can be found: its DOI, else its address, else nothing.
fn locator(meta: &Meta) -> Option<String> {
    meta.doi
        .as_ref()
        .map(|d| format!("https://doi.org/{d}"))
        .or_else(|| meta.base_url.clone())
}

/// Authors (year). Title: subtitle. Locator
fn plain(meta: &Meta) -> String {
    let mut s = String::new();
    let names: Vec<&str> = meta.authors.iter().map(|a| a.name.as_str()).collect();
    match names.len() {
        0 => {}
        1 => s.push_str(names[0]),
        n => {
            s.push_str(&names[..n - 1].join(", "));
            s.push_str(" and ");
            s.push_str(names[n - 1]);
        }
    }
    if let Some(y) = year(meta) {
        s.push_str(&format!(" ({y})"));
    }
    if !s.is_empty() {
        s.push_str(". ");
    }
    s.push_str(&full_title(meta));
    s.push_str(" [findings and data].");
    if let Some(l) = locator(meta) {
        s.push(' ');
        s.push_str(&l);
    }
    s.trim().to_string()
}

/// `{` and `}` balance in BibTeX values; other special characters are escaped.
fn bib_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '{' | '}' | '\\' => {}
            '&' | '%' | '$' | '#' | '_' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn bib_key(meta: &Meta) -> String {
    let who = meta
        .authors
        .first()
        .map(|a| a.family_names.as_deref().unwrap_or(&a.name))
        .and_then(|n| n.split_whitespace().next())
        .unwrap_or("study");
    let word = meta
        .title
        .split_whitespace()
        .find(|w| w.len() > 3)
        .unwrap_or("study");
    let clean = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_lowercase()
    };
    format!("{}{}{}", clean(who), year(meta).unwrap_or(""), clean(word))
}

fn bibtex(meta: &Meta) -> String {
    let mut fields: Vec<(&str, String)> = vec![("title", bib_escape(&full_title(meta)))];
    if !meta.authors.is_empty() {
        // BibTeX reads "Family, Given"; a team's name in braces is kept whole.
        let names: Vec<String> = meta
            .authors
            .iter()
            .map(|a| match (&a.family_names, &a.given_names) {
                (Some(f), Some(g)) => format!("{}, {}", bib_escape(f), bib_escape(g)),
                (Some(f), None) => format!("{{{}}}", bib_escape(f)),
                _ => format!("{{{}}}", bib_escape(&a.name)),
            })
            .collect();
        fields.push(("author", names.join(" and ")));
    }
    if let Some(y) = year(meta) {
        fields.push(("year", y.to_string()));
    }
    if let Some(d) = &meta.doi {
        fields.push(("doi", bib_escape(d)));
    }
    if let Some(u) = &meta.base_url {
        fields.push(("url", u.clone()));
    }
    if !meta.keywords.is_empty() {
        fields.push(("keywords", bib_escape(&meta.keywords.join(", "))));
    }
    if let Some(l) = &meta.license {
        fields.push(("note", format!("Licence: {}", bib_escape(&l.name))));
    }
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("  {k} = {{{v}}}"))
        .collect();
    format!("@misc{{{},\n{}\n}}\n", bib_key(meta), body.join(",\n"))
}

fn orcid_url(a: &Author) -> Option<String> {
    a.orcid.as_ref().map(|o| {
        if o.starts_with("https://") {
            o.clone()
        } else {
            format!("https://orcid.org/{o}")
        }
    })
}

/// schema.org `Dataset`: Google Dataset Search and scholarly crawlers read it.
fn json_ld(meta: &Meta) -> Value {
    let mut v = json!({
        "@context": "https://schema.org",
        "@type": "Dataset",
        "name": meta.title,
        "inLanguage": meta.language,
    });
    let o = v.as_object_mut().expect("an object");
    if let Some(s) = &meta.subtitle {
        o.insert("alternateName".into(), json!(s));
    }
    if let Some(d) = meta.description.as_ref().or(meta.subtitle.as_ref()) {
        o.insert("description".into(), json!(d));
    }
    if !meta.authors.is_empty() {
        let people: Vec<Value> = meta
            .authors
            .iter()
            .map(|a| {
                // ORCID iDs and split names are for people; any other author is
                // taken for a team.
                let person = a.family_names.is_some() || a.orcid.is_some();
                let kind = if person { "Person" } else { "Organization" };
                let mut p = json!({"@type": kind, "name": a.name});
                if let Some(f) = &a.family_names {
                    p["familyName"] = json!(f);
                }
                if let Some(g) = &a.given_names {
                    p["givenName"] = json!(g);
                }
                if let (true, Some(aff)) = (person, &a.affiliation) {
                    p["affiliation"] = json!({"@type": "Organization", "name": aff});
                }
                if let Some(id) = orcid_url(a) {
                    p["identifier"] = json!(id);
                    p["sameAs"] = json!(id);
                }
                p
            })
            .collect();
        o.insert("creator".into(), json!(people));
    }
    if let Some(d) = &meta.published {
        o.insert("datePublished".into(), json!(d));
    }
    if let Some(l) = &meta.license {
        o.insert("license".into(), json!(l.url));
    }
    if !meta.keywords.is_empty() {
        o.insert("keywords".into(), json!(meta.keywords));
    }
    if let Some(d) = &meta.doi {
        o.insert(
            "identifier".into(),
            json!({"@type": "PropertyValue", "propertyID": "DOI", "value": d, "url": format!("https://doi.org/{d}")}),
        );
    }
    if let Some(base) = &meta.base_url {
        o.insert("url".into(), json!(base));
        let files = [
            ("quotes.csv", "text/csv"),
            ("quotes.json", "application/json"),
            ("codebook.json", "application/json"),
            ("codebook.qdc", "application/xml"),
        ];
        let dist: Vec<Value> = files
            .iter()
            .map(|(f, t)| {
                json!({"@type": "DataDownload", "encodingFormat": t, "contentUrl": format!("{base}data/{f}")})
            })
            .collect();
        o.insert("distribution".into(), json!(dist));
    }
    if let Some(p) = meta.participants {
        o.insert(
            "variableMeasured".into(),
            json!(format!("Themes in interviews with {p} participants")),
        );
    }
    v
}

/// The Highwire Press tags Google Scholar reads.
fn highwire(meta: &Meta) -> Vec<MetaTag> {
    let mut tags = vec![("citation_title".to_string(), full_title(meta))];
    for a in &meta.authors {
        tags.push(("citation_author".into(), a.name.clone()));
        if let Some(aff) = &a.affiliation {
            tags.push(("citation_author_institution".into(), aff.clone()));
        }
        if let Some(o) = &a.orcid {
            tags.push(("citation_author_orcid".into(), o.clone()));
        }
    }
    if let Some(d) = &meta.published {
        tags.push(("citation_publication_date".into(), d.replace('-', "/")));
    }
    if let Some(d) = &meta.doi {
        tags.push(("citation_doi".into(), d.clone()));
    }
    if !meta.keywords.is_empty() {
        tags.push(("citation_keywords".into(), meta.keywords.join("; ")));
    }
    tags.push(("citation_language".into(), meta.language.clone()));
    if let Some(base) = &meta.base_url {
        tags.push(("citation_public_url".into(), base.clone()));
    }
    tags.into_iter()
        .map(|(name, content)| MetaTag { name, content })
        .collect()
}

/// YAML double-quoted string.
fn yaml(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// `CITATION.cff` (Citation File Format 1.2.0). An author with `family_names` is a
/// person; any other is an entity under its `name` (a team, or a person whose name
/// the author did not split: splitting it here would get many names wrong).
pub fn citation_cff(meta: &Meta) -> String {
    let mut s = String::from(
        "# How to cite this study: https://citation-file-format.github.io/\ncff-version: 1.2.0\nmessage: \"If you use these findings or data, please cite them as below.\"\ntype: dataset\n",
    );
    s.push_str(&format!("title: {}\n", yaml(&full_title(meta))));
    if meta.authors.is_empty() {
        s.push_str("authors:\n  - name: \"Unknown\"\n");
    } else {
        s.push_str("authors:\n");
        for a in &meta.authors {
            match &a.family_names {
                Some(family) => {
                    s.push_str(&format!("  - family-names: {}\n", yaml(family)));
                    if let Some(given) = &a.given_names {
                        s.push_str(&format!("    given-names: {}\n", yaml(given)));
                    }
                    if let Some(aff) = &a.affiliation {
                        s.push_str(&format!("    affiliation: {}\n", yaml(aff)));
                    }
                }
                // An entity has no affiliation in CFF.
                None => s.push_str(&format!("  - name: {}\n", yaml(&a.name))),
            }
            if let Some(o) = orcid_url(a) {
                s.push_str(&format!("    orcid: {}\n", yaml(&o)));
            }
        }
    }
    if let Some(d) = &meta.published {
        s.push_str(&format!("date-released: {}\n", yaml(d)));
    }
    if let Some(d) = &meta.doi {
        s.push_str(&format!("doi: {}\n", yaml(d)));
    }
    if let Some(u) = &meta.base_url {
        s.push_str(&format!("url: {}\n", yaml(u)));
    }
    if let Some(l) = &meta.license {
        match &l.spdx {
            Some(id) => s.push_str(&format!("license: {}\n", yaml(id))),
            None => s.push_str(&format!("license-url: {}\n", yaml(&l.url))),
        }
    }
    if !meta.keywords.is_empty() {
        s.push_str("keywords:\n");
        for k in &meta.keywords {
            s.push_str(&format!("  - {}\n", yaml(k)));
        }
    }
    if let Some(d) = &meta.description {
        s.push_str(&format!("abstract: {}\n", yaml(d)));
    }
    s
}

/// `robots.txt`, pointing crawlers at the sitemap.
pub fn robots_txt(base_url: &str) -> String {
    format!(
        "User-agent: *\nAllow: /\n\nSitemap: {base_url}sitemap.xml\n",
        base_url = base_url
    )
}

/// The page a canonical or Open Graph URL names: `base_url` plus the page's folder.
pub fn page_url(base_url: &str, path: &str) -> String {
    format!("{base_url}{}", path.trim_end_matches(urls::HOME))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> Meta {
        Meta {
            title: "Peer support & care".into(),
            subtitle: Some("Six sites".into()),
            description: Some("A study.".into()),
            authors: vec![
                Author {
                    name: "Ada Lovelace".into(),
                    affiliation: Some("Analytical {Engines}".into()),
                    orcid: Some("0000-0002-1825-0097".into()),
                    family_names: Some("Lovelace".into()),
                    given_names: Some("Ada".into()),
                },
                Author {
                    name: "UPSIDES consortium".into(),
                    affiliation: Some("Ulm".into()),
                    orcid: None,
                    family_names: None,
                    given_names: None,
                },
            ],
            language: "en".into(),
            participants: Some(33),
            published: Some("2026-11-25".into()),
            doi: Some("10.1234/abc_1".into()),
            base_url: Some("https://example.org/s/".into()),
            site_theme: "default".into(),
            notice: None,
            license: Some(crate::model::License {
                spdx: Some("CC-BY-4.0".into()),
                url: "https://spdx.org/licenses/CC-BY-4.0.html".into(),
                name: "CC-BY-4.0".into(),
            }),
            keywords: vec!["peer support".into(), "mental health".into()],
            citation: None,
            page_size: crate::model::DEFAULT_PAGE_SIZE,
        }
    }

    #[test]
    fn the_plain_citation_names_authors_year_title_and_doi() {
        assert_eq!(
            citation(&meta()).text,
            "Ada Lovelace and UPSIDES consortium (2026). Peer support & care: Six sites [findings and data]. https://doi.org/10.1234/abc_1"
        );
        let mut m = meta();
        m.citation = Some("As the authors wish.".into());
        assert_eq!(citation(&m).text, "As the authors wish.");
    }

    #[test]
    fn bibtex_escapes_and_balances() {
        let b = bibtex(&meta());
        assert!(b.starts_with("@misc{lovelace2026peer,\n"), "{b}");
        assert!(
            b.contains("  title = {Peer support \\& care: Six sites},"),
            "{b}"
        );
        assert!(
            b.contains("  author = {Lovelace, Ada and {UPSIDES consortium}},"),
            "{b}"
        );
        assert!(b.contains("  doi = {10.1234/abc\\_1},"), "{b}");
        assert_eq!(b.matches('{').count(), b.matches('}').count(), "{b}");
    }

    #[test]
    fn cff_splits_people_and_keeps_entities() {
        let c = citation_cff(&meta());
        assert!(c.contains("cff-version: 1.2.0\n"));
        assert!(c.contains("  - family-names: \"Lovelace\"\n    given-names: \"Ada\"\n    affiliation: \"Analytical {Engines}\"\n    orcid: \"https://orcid.org/0000-0002-1825-0097\"\n"), "{c}");
        assert!(c.contains("  - name: \"UPSIDES consortium\"\n"), "{c}");
        assert!(!c.contains("Ulm"), "{c}");
        assert!(c.contains("license: \"CC-BY-4.0\"\n"), "{c}");
        assert!(c.contains("date-released: \"2026-11-25\"\n"), "{c}");
    }

    #[test]
    fn json_ld_is_a_dataset_with_creators_and_doi() {
        let v = json_ld(&meta());
        assert_eq!(v["@type"], "Dataset");
        assert_eq!(
            v["creator"][0]["identifier"],
            "https://orcid.org/0000-0002-1825-0097"
        );
        assert_eq!(v["creator"][0]["@type"], "Person");
        assert_eq!(v["creator"][1]["@type"], "Organization");
        assert_eq!(v["identifier"]["value"], "10.1234/abc_1");
        assert_eq!(v["license"], "https://spdx.org/licenses/CC-BY-4.0.html");
        assert_eq!(
            v["distribution"][0]["contentUrl"],
            "https://example.org/s/data/quotes.csv"
        );
    }

    #[test]
    fn highwire_dates_use_slashes() {
        let tags = highwire(&meta());
        assert!(tags.contains(&MetaTag {
            name: "citation_publication_date".into(),
            content: "2026/11/25".into()
        }));
        assert_eq!(
            tags.iter().filter(|t| t.name == "citation_author").count(),
            2
        );
    }
}

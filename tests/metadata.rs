//! Findable and citable: every page's title and description, Open Graph tags and
//! canonical links with `base_url`, the home page's schema.org JSON-LD and Highwire
//! `citation_*` tags, the "Cite this study" block, `CITATION.cff`, `sitemap.xml` and
//! `robots.txt`. Expected values come from the fixture's study.yaml as written.

mod common;

use std::collections::BTreeSet;

use serde_json::Value;

use common::*;

const BASE: &str = "https://example.org/riverside/";

/// The riverside fixture with a base URL, a licence, keywords and split names.
fn riverside_published() -> TestStudy {
    let study = TestStudy::fixture("riverside");
    let text = study.read("content/study.yaml");
    let text = text.replace(
        "  - name: \"Ada Testwriter\"\n",
        "  - name: \"Ada Testwriter\"\n    family_names: Testwriter\n    given_names: Ada\n",
    );
    study.write(
        "content/study.yaml",
        format!(
            "{text}base_url: {BASE}\nlicense: CC-BY-4.0\nkeywords: [waiting, belonging, repair]\n"
        ),
    );
    study.build().assert_ok();
    study
}

fn meta_named(html: &str, attr: &str, name: &str) -> Vec<String> {
    tags(html)
        .into_iter()
        .filter(|t| t.name == "meta" && t.attr(attr) == Some(name))
        .filter_map(|t| t.attr("content").map(str::to_string))
        .collect()
}

fn title_of(html: &str) -> String {
    let start = html.find("<title>").unwrap() + "<title>".len();
    let end = html[start..].find("</title>").unwrap() + start;
    decode_entities(&html[start..end])
}

#[test]
fn every_page_has_its_own_title_and_a_description() {
    let study = TestStudy::example();
    study.build().assert_ok();
    let out = study.out();
    let mut titles = BTreeSet::new();
    for page in html_files(&out) {
        let html = read_page(&out, &page);
        let title = title_of(&html);
        assert!(!title.trim().is_empty(), "{page}: empty title");
        assert!(
            titles.insert(title.clone()),
            "{page}: title {title:?} used twice"
        );
        if page != "404.html" {
            let d = meta_named(&html, "name", "description");
            assert_eq!(d.len(), 1, "{page}: one meta description");
            assert!(d[0].len() > 20, "{page}: description {:?}", d[0]);
        }
    }
}

#[test]
fn with_base_url_pages_have_canonical_and_open_graph_urls() {
    let study = riverside_published();
    let out = study.out();
    for page in html_files(&out).into_iter().filter(|p| p != "404.html") {
        let html = read_page(&out, &page);
        let url = format!("{BASE}{}", page.trim_end_matches("index.html"));
        assert_eq!(meta_named(&html, "property", "og:url"), [url], "{page}");
        assert_eq!(
            meta_named(&html, "property", "og:title"),
            [title_of(&html).split(" · ").next().unwrap().to_string()],
            "{page}"
        );
        assert_eq!(meta_named(&html, "property", "og:site_name").len(), 1);
    }
    // Without base_url there is nowhere to point to: no Open Graph URLs.
    let plain = TestStudy::fixture("riverside");
    plain.build().assert_ok();
    let home = read_page(&plain.out(), "index.html");
    assert!(meta_named(&home, "property", "og:url").is_empty());
    assert!(!plain.out().join("robots.txt").exists());
    assert!(!plain.out().join("sitemap.xml").exists());
}

#[test]
fn the_home_page_has_json_ld_and_citation_tags_from_study_yaml() {
    let study = riverside_published();
    let home = read_page(&study.out(), "index.html");
    let start = home.find("<script type=\"application/ld+json\">").unwrap();
    let body = &home[start..];
    let json = &body[body.find('>').unwrap() + 1..body.find("</script>").unwrap()];
    let ld: Value = serde_json::from_str(json).unwrap();
    assert_eq!(ld["@context"], "https://schema.org");
    assert_eq!(ld["@type"], "Dataset");
    assert_eq!(
        ld["name"],
        "Riverside: waiting, belonging & repair in three cities"
    );
    assert_eq!(ld["datePublished"], "2025-06-30");
    assert_eq!(ld["license"], "https://spdx.org/licenses/CC-BY-4.0.html");
    assert_eq!(
        ld["keywords"],
        serde_json::json!(["waiting", "belonging", "repair"])
    );
    assert_eq!(ld["identifier"]["propertyID"], "DOI");
    assert_eq!(ld["identifier"]["value"], "10.5555/riverside.test");
    assert_eq!(ld["url"], BASE);
    let ada = &ld["creator"][0];
    assert_eq!(ada["@type"], "Person");
    assert_eq!(ada["name"], "Ada Testwriter");
    assert_eq!(ada["familyName"], "Testwriter");
    assert_eq!(ada["affiliation"]["name"], "Fixture University");
    assert_eq!(ada["identifier"], "https://orcid.org/0000-0002-1825-0097");
    assert_eq!(ld["creator"][1]["name"], "Bea Checker");
    assert!(
        ld["distribution"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["contentUrl"] == format!("{BASE}data/quotes.csv"))
    );

    assert_eq!(
        meta_named(&home, "name", "citation_title"),
        [
            "Riverside: waiting, belonging & repair in three cities: A test study with three-level themes, right-to-left originals and drafts"
        ]
    );
    assert_eq!(
        meta_named(&home, "name", "citation_author"),
        ["Ada Testwriter", "Bea Checker"]
    );
    assert_eq!(
        meta_named(&home, "name", "citation_publication_date"),
        ["2025/06/30"]
    );
    assert_eq!(
        meta_named(&home, "name", "citation_doi"),
        ["10.5555/riverside.test"]
    );
    // Only the home page describes the study as a whole.
    let theme = read_page(&study.out(), "themes/kinship/index.html");
    assert!(meta_named(&theme, "name", "citation_title").is_empty());
    assert!(!theme.contains("application/ld+json"));
}

#[test]
fn the_home_page_says_how_to_cite_and_citation_cff_agrees() {
    let study = riverside_published();
    let out = study.out();
    let home = read_page(&out, "index.html");
    let cite = element_at(&home, tags_with(&home, "id", "cite-text")[0].offset);
    assert!(
        cite.contains(
            "Ada Testwriter and Bea Checker (2025). Riverside: waiting, belonging &amp; repair in three cities"
        ),
        "{cite}"
    );
    assert!(
        cite.contains("https://doi.org/10.5555/riverside.test"),
        "{cite}"
    );
    let bib = element_at(&home, tags_with(&home, "id", "cite-bibtex")[0].offset);
    assert!(bib.contains("@misc{testwriter2025riverside,"), "{bib}");
    assert!(
        bib.contains("author = {Testwriter, Ada and {Bea Checker}}"),
        "{bib}"
    );
    // The copy buttons wait for the script: without it they would do nothing.
    assert_eq!(
        tags(&home)
            .iter()
            .filter(|t| t.has_class("copy-text") && t.attr("hidden").is_some())
            .count(),
        2
    );

    let cff: serde_yaml::Value =
        serde_yaml::from_str(&read_page(&out, "CITATION.cff")).expect("CITATION.cff is YAML");
    assert_eq!(cff["cff-version"].as_str(), Some("1.2.0"));
    assert!(cff["message"].as_str().is_some());
    assert_eq!(cff["doi"].as_str(), Some("10.5555/riverside.test"));
    assert_eq!(cff["license"].as_str(), Some("CC-BY-4.0"));
    assert_eq!(cff["date-released"].as_str(), Some("2025-06-30"));
    let authors = cff["authors"].as_sequence().unwrap();
    assert_eq!(authors[0]["family-names"].as_str(), Some("Testwriter"));
    assert_eq!(authors[0]["given-names"].as_str(), Some("Ada"));
    assert_eq!(
        authors[0]["orcid"].as_str(),
        Some("https://orcid.org/0000-0002-1825-0097")
    );
    assert_eq!(authors[1]["name"].as_str(), Some("Bea Checker"));
}

#[test]
fn sitemap_lists_every_page_and_robots_txt_points_to_it() {
    let study = riverside_published();
    let out = study.out();
    let sitemap = read_page(&out, "sitemap.xml");
    let locs: BTreeSet<String> = sitemap
        .split("<loc>")
        .skip(1)
        .map(|s| s.split("</loc>").next().unwrap().to_string())
        .collect();
    let want: BTreeSet<String> = html_files(&out)
        .into_iter()
        .filter(|p| p != "404.html")
        .map(|p| format!("{BASE}{}", p.trim_end_matches("index.html")))
        .collect();
    assert_eq!(locs, want);
    assert_eq!(
        read_page(&out, "robots.txt"),
        format!("User-agent: *\nAllow: /\n\nSitemap: {BASE}sitemap.xml\n")
    );
}

#[test]
fn the_footer_of_every_page_links_the_data_page_and_the_licence() {
    let study = riverside_published();
    let out = study.out();
    for page in html_files(&out) {
        let html = read_page(&out, &page);
        let footer = element_at(&html, html.find("<footer").unwrap());
        let targets: Vec<String> = links(footer);
        assert!(
            targets.iter().any(|l| l.ends_with("data/index.html")),
            "{page}: no data link in the footer"
        );
        assert!(
            targets
                .iter()
                .any(|l| l == "https://spdx.org/licenses/CC-BY-4.0.html"),
            "{page}: no licence link in the footer"
        );
    }
}

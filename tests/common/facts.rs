//! An independent reading of a study's `content/`, used to compute what a build must
//! produce (the page set, which quotes are published, the order of findings) without
//! trusting thematic's own code. It only handles valid studies.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use serde_yaml::{Mapping, Value};

/// A theme, site, group or finding page.
#[derive(Debug, Clone)]
pub struct Page {
    /// Id (front matter `id`, or the file stem).
    pub id: String,
    /// Title.
    pub title: String,
    /// `order`, if given.
    pub order: Option<i64>,
    /// `draft: true`.
    pub draft: bool,
    /// Themes: the parent's id.
    pub parent: Option<String>,
    /// Path relative to the study folder.
    pub file: String,
}

/// A quote, with its file's defaults applied.
#[derive(Debug, Clone)]
pub struct Quote {
    /// Id.
    pub id: String,
    /// Participant code.
    pub participant: String,
    /// Site id.
    pub site: String,
    /// Group id.
    pub group: String,
    /// Theme ids, as tagged.
    pub themes: Vec<String>,
    /// Verbatim text.
    pub text: String,
    /// `original.lang`, if any.
    pub original_lang: Option<String>,
    /// `original.text`, if any.
    pub original_text: Option<String>,
    /// `context`, if any.
    pub context: Option<String>,
    /// `draft: true`.
    pub draft: bool,
    /// Path relative to the study folder.
    pub file: String,
}

/// Everything in a study's content that decides its page set.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Theme pages.
    pub themes: Vec<Page>,
    /// Site pages.
    pub sites: Vec<Page>,
    /// Group pages.
    pub groups: Vec<Page>,
    /// Findings pages.
    pub findings: Vec<Page>,
    /// Every quote, drafts included.
    pub quotes: Vec<Quote>,
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn get_text(m: &Mapping, key: &str) -> Option<String> {
    m.get(key).and_then(text)
}

fn get_bool(m: &Mapping, key: &str) -> bool {
    m.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn markdown_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.extension().is_some_and(|e| e == "md")
                        && !p.file_name().unwrap().to_string_lossy().starts_with('.')
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn yaml_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(p);
        }
    }
}

fn front_matter(text: &str) -> Mapping {
    let mut lines = text.lines();
    assert_eq!(lines.next().map(str::trim_end), Some("---"), "front matter");
    let mut yaml = String::new();
    for l in lines {
        if l.trim_end() == "---" || l.trim_end() == "..." {
            break;
        }
        yaml.push_str(l);
        yaml.push('\n');
    }
    match serde_yaml::from_str::<Value>(&yaml).expect("front matter YAML") {
        Value::Mapping(m) => m,
        _ => Mapping::new(),
    }
}

fn read_pages(study: &Path, folder: &str) -> Vec<Page> {
    markdown_files(&study.join("content").join(folder))
        .into_iter()
        .map(|p| {
            let fm = front_matter(&fs::read_to_string(&p).unwrap());
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            let id = get_text(&fm, "id").unwrap_or(stem);
            Page {
                title: get_text(&fm, "title").unwrap_or_else(|| id.clone()),
                id,
                order: fm.get("order").and_then(Value::as_i64),
                draft: get_bool(&fm, "draft"),
                parent: get_text(&fm, "parent"),
                file: p
                    .strip_prefix(study)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/"),
            }
        })
        .collect()
}

fn read_quotes(study: &Path) -> Vec<Quote> {
    let mut files = Vec::new();
    yaml_files(&study.join("content").join("quotes"), &mut files);
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(study)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let value: Value = serde_yaml::from_str(&fs::read_to_string(&f).unwrap())
            .unwrap_or_else(|e| panic!("{rel}: {e}"));
        let (defaults, items) = match value {
            Value::Sequence(s) => (Mapping::new(), s),
            Value::Mapping(m) => (
                m.get("defaults")
                    .and_then(Value::as_mapping)
                    .cloned()
                    .unwrap_or_default(),
                m.get("quotes")
                    .and_then(Value::as_sequence)
                    .cloned()
                    .unwrap_or_default(),
            ),
            _ => continue,
        };
        for item in items {
            let mut q = defaults.clone();
            for (k, v) in item.as_mapping().expect("a quote is a mapping") {
                q.insert(k.clone(), v.clone());
            }
            let themes = match q.get("themes") {
                Some(Value::Sequence(s)) => s.iter().filter_map(text).collect(),
                Some(v) => text(v).into_iter().collect(),
                None => Vec::new(),
            };
            out.push(Quote {
                id: get_text(&q, "id").expect("quote id"),
                participant: get_text(&q, "participant").unwrap_or_default(),
                site: get_text(&q, "site").unwrap_or_default(),
                group: get_text(&q, "group").unwrap_or_default(),
                themes,
                text: get_text(&q, "text").unwrap_or_default(),
                original_lang: q
                    .get("original")
                    .and_then(Value::as_mapping)
                    .and_then(|o| get_text(o, "lang")),
                original_text: q
                    .get("original")
                    .and_then(Value::as_mapping)
                    .and_then(|o| get_text(o, "text")),
                context: get_text(&q, "context"),
                draft: get_bool(&q, "draft"),
                file: rel.clone(),
            });
        }
    }
    out
}

impl Quote {
    /// The texts search finds the quote by: text, original text and context.
    pub fn searched_texts(&self) -> Vec<&str> {
        let mut out = vec![self.text.as_str()];
        out.extend(self.original_text.as_deref());
        out.extend(self.context.as_deref());
        out
    }
}

/// Sort key of pages: `order` first (pages without it last), then title, then id.
fn sort_key(p: &Page) -> (bool, i64, String, String) {
    (
        p.order.is_none(),
        p.order.unwrap_or(0),
        p.title.to_lowercase(),
        p.id.clone(),
    )
}

impl Facts {
    /// Reads the study in `study` (the folder holding `content/`).
    pub fn read(study: &Path) -> Facts {
        Facts {
            themes: read_pages(study, "themes"),
            sites: read_pages(study, "sites"),
            groups: read_pages(study, "groups"),
            findings: read_pages(study, "findings"),
            quotes: read_quotes(study),
        }
    }

    fn theme(&self, id: &str) -> &Page {
        self.themes
            .iter()
            .find(|t| t.id == id)
            .unwrap_or_else(|| panic!("no theme {id}"))
    }

    /// The theme and its ancestors, nearest first.
    pub fn lineage(&self, id: &str) -> Vec<String> {
        let mut out = vec![id.to_string()];
        let mut cur = self.theme(id).parent.clone();
        while let Some(p) = cur {
            assert!(!out.contains(&p), "parent cycle at {p}");
            out.push(p.clone());
            cur = self.theme(&p).parent.clone();
        }
        out
    }

    /// Depth of a theme: 0 for top-level themes.
    pub fn depth(&self, id: &str) -> usize {
        self.lineage(id).len() - 1
    }

    /// Themes shown in a build: a draft theme takes its subtree with it.
    pub fn published_themes(&self, drafts: bool) -> BTreeSet<String> {
        self.themes
            .iter()
            .filter(|t| drafts || self.lineage(&t.id).iter().all(|a| !self.theme(a).draft))
            .map(|t| t.id.clone())
            .collect()
    }

    fn published(pages: &[Page], drafts: bool) -> BTreeSet<String> {
        pages
            .iter()
            .filter(|p| drafts || !p.draft)
            .map(|p| p.id.clone())
            .collect()
    }

    /// Sites shown in a build.
    pub fn published_sites(&self, drafts: bool) -> BTreeSet<String> {
        Self::published(&self.sites, drafts)
    }

    /// Groups shown in a build.
    pub fn published_groups(&self, drafts: bool) -> BTreeSet<String> {
        Self::published(&self.groups, drafts)
    }

    /// Quotes shown in a build, with their themes reduced to the published ones.
    pub fn published_quotes(&self, drafts: bool) -> Vec<Quote> {
        let themes = self.published_themes(drafts);
        let sites = self.published_sites(drafts);
        let groups = self.published_groups(drafts);
        self.quotes
            .iter()
            .filter(|q| drafts || !q.draft)
            .filter(|q| sites.contains(&q.site) && groups.contains(&q.group))
            .filter_map(|q| {
                let mut kept: Vec<String> = Vec::new();
                for t in &q.themes {
                    if themes.contains(t) && !kept.contains(t) {
                        kept.push(t.clone());
                    }
                }
                (!kept.is_empty()).then(|| Quote {
                    themes: kept,
                    ..q.clone()
                })
            })
            .collect()
    }

    /// Quotes left out of a build.
    pub fn left_out_quotes(&self, drafts: bool) -> Vec<Quote> {
        let shown: BTreeSet<String> = self
            .published_quotes(drafts)
            .into_iter()
            .map(|q| q.id)
            .collect();
        self.quotes
            .iter()
            .filter(|q| !shown.contains(&q.id))
            .cloned()
            .collect()
    }

    /// Every (theme, site) with at least one quote, counting a quote for each of its
    /// themes and all their ancestors.
    pub fn theme_site_pairs(&self, drafts: bool) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        for q in self.published_quotes(drafts) {
            for t in &q.themes {
                for a in self.lineage(t) {
                    out.insert((a, q.site.clone()));
                }
            }
        }
        out
    }

    /// Quotes of a theme, its descendants included.
    pub fn quotes_of_theme(&self, theme: &str, drafts: bool) -> Vec<Quote> {
        self.published_quotes(drafts)
            .into_iter()
            .filter(|q| {
                q.themes
                    .iter()
                    .any(|t| self.lineage(t).iter().any(|a| a == theme))
            })
            .collect()
    }

    /// Findings pages in their published order.
    pub fn findings_in_order(&self, drafts: bool) -> Vec<Page> {
        let mut f: Vec<Page> = self
            .findings
            .iter()
            .filter(|p| drafts || !p.draft)
            .cloned()
            .collect();
        f.sort_by_key(sort_key);
        f
    }

    /// The exact set of HTML pages a build must write.
    pub fn expected_pages(&self, drafts: bool) -> BTreeSet<String> {
        let mut pages: BTreeSet<String> = [
            "index.html",
            "404.html",
            "themes/index.html",
            "sites/index.html",
            "groups/index.html",
            "findings/index.html",
            "quotes/index.html",
            "data/index.html",
            "search/index.html",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for t in self.published_themes(drafts) {
            pages.insert(format!("themes/{t}/index.html"));
        }
        for (t, s) in self.theme_site_pairs(drafts) {
            pages.insert(format!("themes/{t}/{s}/index.html"));
        }
        for s in self.published_sites(drafts) {
            pages.insert(format!("sites/{s}/index.html"));
        }
        for g in self.published_groups(drafts) {
            pages.insert(format!("groups/{g}/index.html"));
        }
        for f in self.findings_in_order(drafts) {
            pages.insert(format!("findings/{}/index.html", f.id));
        }
        pages
    }

    /// Count of top-level and lower themes in a build.
    pub fn theme_counts(&self, drafts: bool) -> (usize, usize) {
        let published = self.published_themes(drafts);
        let top = published
            .iter()
            .filter(|t| self.theme(t).parent.is_none())
            .count();
        (top, published.len() - top)
    }

    /// The published quotes by id.
    pub fn quote_map(&self, drafts: bool) -> BTreeMap<String, Quote> {
        self.published_quotes(drafts)
            .into_iter()
            .map(|q| (q.id.clone(), q))
            .collect()
    }
}

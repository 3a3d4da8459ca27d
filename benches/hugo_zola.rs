//! The equivalent Hugo and Zola sites of a synthetic study (issue 9), read back
//! from the study's files under `content/`: every quote is a page (its text as
//! content) carrying taxonomies for themes (rolled up to parents: a quote tagged
//! t3-s1 is also in t3), sites, groups and theme-by-site pairs (t3-s1@site-2 and
//! t3@site-2); each term page lists the full text of its quotes, as thematic's
//! theme, site, group and theme-by-site pages do: whole, as issue 9 defines the
//! equivalent site, or (`--paginate`) in pages of [`PAGE_SIZE`] quotes
//! (`page/2/`, ...) as thematic paginates its lists. The 20 findings are pages
//! too. Templates are minimal and the same in both generators.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

/// One quote of the study, as the Hugo and Zola sites need it.
pub struct Quote {
    pub id: String,
    pub text: String,
    pub site: String,
    pub group: String,
    pub themes: Vec<String>,
}

/// A findings page: title and Markdown body.
pub struct Finding {
    pub slug: String,
    pub title: String,
    pub body: String,
}

fn value_str(v: &serde_yaml::Value, key: &str) -> Option<String> {
    v.get(key).and_then(|x| x.as_str()).map(str::to_string)
}

/// Reads the quotes of a study (the files `synthetic::write_study` writes under `content/quotes/`).
pub fn read_quotes(study: &Path) -> Vec<Quote> {
    let mut files: Vec<_> = walkdir::WalkDir::new(study.join("content/quotes"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "yaml"))
        .map(|e| e.into_path())
        .collect();
    files.sort();
    let mut quotes = Vec::new();
    for f in files {
        let doc: serde_yaml::Value = serde_yaml::from_str(&fs::read_to_string(&f).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let defaults = doc.get("defaults").cloned().unwrap_or_default();
        let Some(list) = doc.get("quotes").and_then(|q| q.as_sequence()) else {
            continue;
        };
        for q in list {
            let field = |k: &str| {
                value_str(q, k)
                    .or_else(|| value_str(&defaults, k))
                    .unwrap_or_default()
            };
            let themes = q
                .get("themes")
                .and_then(|t| t.as_sequence())
                .map(|s| {
                    s.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            quotes.push(Quote {
                id: field("id"),
                text: field("text"),
                site: field("site"),
                group: field("group"),
                themes,
            });
        }
    }
    quotes
}

/// Reads the findings pages (front matter title, Markdown body).
pub fn read_findings(study: &Path) -> Vec<Finding> {
    let mut out = Vec::new();
    let Ok(rd) = fs::read_dir(study.join("content/findings")) else {
        return out;
    };
    let mut paths: Vec<_> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        let text = fs::read_to_string(&p).unwrap();
        let (front, body) = match text
            .strip_prefix("---\n")
            .and_then(|r| r.split_once("\n---\n"))
        {
            Some((f, b)) => (f, b),
            None => ("", text.as_str()),
        };
        let title = front
            .lines()
            .find_map(|l| l.strip_prefix("title:"))
            .map(|t| t.trim().to_string())
            .unwrap_or_default();
        out.push(Finding {
            slug: p.file_stem().unwrap().to_string_lossy().into_owned(),
            title,
            body: body.to_string(),
        });
    }
    out
}

/// The taxonomies of a quote: themes rolled up to parents, site, group, and
/// theme-by-site pairs for each theme (subthemes and their parents).
pub fn taxonomies(q: &Quote) -> [(&'static str, Vec<String>); 4] {
    let mut themes = BTreeSet::new();
    for t in &q.themes {
        themes.insert(t.clone());
        if let Some((parent, _)) = t.split_once("-s") {
            themes.insert(parent.to_string());
        }
    }
    let pairs = themes.iter().map(|t| format!("{t}@{}", q.site)).collect();
    [
        ("themes", themes.into_iter().collect()),
        ("sites", vec![q.site.clone()]),
        ("groups", vec![q.group.clone()]),
        ("themesites", pairs),
    ]
}

fn toml_list(v: &[String]) -> String {
    let items: Vec<String> = v.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", items.join(", "))
}

fn write(path: &Path, text: &str) {
    if let Some(p) = path.parent() {
        fs::create_dir_all(p).unwrap();
    }
    fs::write(path, text).unwrap();
}

const TAXONOMY_NAMES: [&str; 4] = ["themes", "sites", "groups", "themesites"];

/// Quotes per term page in the Hugo and Zola sites (Hugo's `paginate`, Zola's
/// taxonomy `paginate_by`). It must equal thematic's default `page_size` (the
/// synthetic study sets none), so that all three publish the same lists in
/// pages of the same length.
pub const PAGE_SIZE: usize = 100;

/// Writes the equivalent Hugo site into `dir` (which is replaced); term pages
/// paginated when `paginate`.
pub fn write_hugo(dir: &Path, quotes: &[Quote], findings: &[Finding], title: &str, paginate: bool) {
    let _ = fs::remove_dir_all(dir);
    let paginate_line = if paginate {
        format!("paginate = {PAGE_SIZE}\n")
    } else {
        String::new()
    };
    let mut config = format!(
        "baseURL = \"http://localhost/\"\ntitle = {title:?}\n{paginate_line}disableKinds = [\"RSS\", \"sitemap\", \"robotsTXT\", \"404\"]\n\n[taxonomies]\n"
    );
    for t in TAXONOMY_NAMES {
        let _ = writeln!(config, "{} = \"{t}\"", &t[..t.len() - 1]);
    }
    write(&dir.join("config.toml"), &config);
    let l = dir.join("layouts/_default");
    write(
        &l.join("baseof.html"),
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{{ .Title }}</title></head>\n<body>{{ block \"main\" . }}{{ end }}</body></html>\n",
    );
    write(
        &l.join("single.html"),
        "{{ define \"main\" }}<h1>{{ .Title }}</h1>\n{{ .Content }}{{ end }}\n",
    );
    write(
        &l.join("list.html"),
        "{{ define \"main\" }}<h1>{{ .Title }}</h1>\n{{ .Content }}<p>{{ len .Pages }} pages</p>{{ end }}\n",
    );
    write(
        &l.join("terms.html"),
        "{{ define \"main\" }}<h1>{{ .Title }}</h1>\n<ul>{{ range .Pages }}<li><a href=\"{{ .RelPermalink }}\">{{ .Title }}</a> {{ len .Pages }}</li>{{ end }}</ul>{{ end }}\n",
    );
    let term = if paginate {
        "{{ define \"main\" }}<h1>{{ .Title }}</h1>\n{{ range .Paginator.Pages }}<article><h2><a href=\"{{ .RelPermalink }}\">{{ .Title }}</a></h2>\n{{ .Content }}</article>\n{{ end }}{{ if gt .Paginator.TotalPages 1 }}<nav>{{ range .Paginator.Pagers }}<a href=\"{{ .URL }}\">{{ .PageNumber }}</a> {{ end }}</nav>{{ end }}{{ end }}\n"
    } else {
        "{{ define \"main\" }}<h1>{{ .Title }}</h1>\n{{ range .Pages }}<article><h2><a href=\"{{ .RelPermalink }}\">{{ .Title }}</a></h2>\n{{ .Content }}</article>\n{{ end }}{{ end }}\n"
    };
    write(&l.join("term.html"), term);
    let c = dir.join("content");
    write(
        &c.join("_index.md"),
        &format!("---\ntitle: {title:?}\n---\n"),
    );
    write(&c.join("quotes/_index.md"), "---\ntitle: Quotes\n---\n");
    write(&c.join("findings/_index.md"), "---\ntitle: Findings\n---\n");
    for f in findings {
        write(
            &c.join(format!("findings/{}.md", f.slug)),
            &format!("+++\ntitle = {:?}\n+++\n{}", f.title, f.body),
        );
    }
    for q in quotes {
        let mut page = format!("+++\ntitle = {:?}\n", q.id);
        for (name, terms) in taxonomies(q) {
            let _ = writeln!(page, "{name} = {}", toml_list(&terms));
        }
        let _ = write!(page, "+++\n{}\n", q.text);
        write(&c.join(format!("quotes/{}.md", q.id)), &page);
    }
}

/// Writes the equivalent Zola site into `dir` (which is replaced); term pages
/// paginated when `paginate`.
pub fn write_zola(dir: &Path, quotes: &[Quote], findings: &[Finding], title: &str, paginate: bool) {
    let _ = fs::remove_dir_all(dir);
    let mut config = format!(
        "base_url = \"http://localhost/\"\ntitle = {title:?}\ncompile_sass = false\nbuild_search_index = false\ngenerate_feeds = false\ntaxonomies = [\n"
    );
    for t in TAXONOMY_NAMES {
        if paginate {
            let _ = writeln!(config, "  {{ name = \"{t}\", paginate_by = {PAGE_SIZE} }},");
        } else {
            let _ = writeln!(config, "  {{ name = \"{t}\" }},");
        }
    }
    config.push_str("]\n");
    write(&dir.join("config.toml"), &config);
    let t = dir.join("templates");
    write(
        &t.join("base.html"),
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{% block title %}{% endblock %}</title></head>\n<body>{% block main %}{% endblock %}</body></html>\n",
    );
    write(
        &t.join("page.html"),
        "{% extends \"base.html\" %}{% block title %}{{ page.title }}{% endblock %}{% block main %}<h1>{{ page.title }}</h1>\n{{ page.content | safe }}{% endblock %}\n",
    );
    for name in ["index.html", "section.html"] {
        write(
            &t.join(name),
            "{% extends \"base.html\" %}{% block title %}{{ section.title }}{% endblock %}{% block main %}<h1>{{ section.title }}</h1>\n{{ section.content | safe }}<p>{{ section.pages | length }} pages</p>{% endblock %}\n",
        );
    }
    write(
        &t.join("taxonomy_list.html"),
        "{% extends \"base.html\" %}{% block title %}{{ taxonomy.name }}{% endblock %}{% block main %}<h1>{{ taxonomy.name }}</h1>\n<ul>{% for term in terms %}<li><a href=\"{{ term.permalink | safe }}\">{{ term.name }}</a> {{ term.pages | length }}</li>{% endfor %}</ul>{% endblock %}\n",
    );
    let term = if paginate {
        "{% extends \"base.html\" %}{% block title %}{{ term.name }}{% endblock %}{% block main %}<h1>{{ term.name }}</h1>\n{% for page in paginator.pages %}<article><h2><a href=\"{{ page.permalink | safe }}\">{{ page.title }}</a></h2>\n{{ page.content | safe }}</article>\n{% endfor %}{% if paginator.number_pagers > 1 %}<nav>{% for i in range(start=1, end=paginator.number_pagers + 1) %}<a href=\"{% if i == 1 %}{{ paginator.first | safe }}{% else %}{{ paginator.base_url | safe }}{{ i }}/{% endif %}\">{{ i }}</a> {% endfor %}</nav>{% endif %}{% endblock %}\n"
    } else {
        "{% extends \"base.html\" %}{% block title %}{{ term.name }}{% endblock %}{% block main %}<h1>{{ term.name }}</h1>\n{% for page in term.pages %}<article><h2><a href=\"{{ page.permalink | safe }}\">{{ page.title }}</a></h2>\n{{ page.content | safe }}</article>\n{% endfor %}{% endblock %}\n"
    };
    write(&t.join("taxonomy_single.html"), term);
    let c = dir.join("content");
    write(
        &c.join("_index.md"),
        &format!("+++\ntitle = {title:?}\n+++\n"),
    );
    write(
        &c.join("quotes/_index.md"),
        "+++\ntitle = \"Quotes\"\n+++\n",
    );
    write(
        &c.join("findings/_index.md"),
        "+++\ntitle = \"Findings\"\n+++\n",
    );
    for f in findings {
        write(
            &c.join(format!("findings/{}.md", f.slug)),
            &format!("+++\ntitle = {:?}\n+++\n{}", f.title, f.body),
        );
    }
    for q in quotes {
        let mut page = format!("+++\ntitle = {:?}\n[taxonomies]\n", q.id);
        for (name, terms) in taxonomies(q) {
            let _ = writeln!(page, "{name} = {}", toml_list(&terms));
        }
        let _ = write!(page, "+++\n{}\n", q.text);
        write(&c.join(format!("quotes/{}.md", q.id)), &page);
    }
}

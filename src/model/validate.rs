//! From records to a validated [`Study`]: ids, references, the theme tree, drafts and indexes.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::*;
use crate::diagnostics::{Diagnostics, Position, did_you_mean};
use crate::load::{PageKind, PageRecord, QuoteRecord, Sources, Spanned};

/// True for ids of the form `^[a-z0-9]+(-[a-z0-9]+)*$`.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('-')
        && !id.ends_with('-')
        && !id.contains("--")
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A valid id close to `s`: lowercase, accents dropped ("São Paulo" gives
/// `sao-paulo`), runs of other characters turned into one hyphen.
pub fn slugify(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    let mut out = String::new();
    let spelled = s
        .chars()
        .flat_map(char::to_lowercase)
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(|c| match c {
            'ß' => "ss".chars().collect::<Vec<_>>(),
            'æ' => vec!['a', 'e'],
            'œ' => vec!['o', 'e'],
            'ø' => vec!['o'],
            'ł' => vec!['l'],
            'đ' | 'ð' => vec!['d'],
            'þ' => vec!['t', 'h'],
            'ı' => vec!['i'],
            c => vec![c],
        });
    for c in spelled {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// True for a plausible BCP 47 tag: a 2-3 letter language, then subtags of 1-8 letters or digits.
pub fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let first = parts.next().unwrap_or("");
    (2..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// True for languages and scripts written right to left.
pub fn is_rtl(tag: &str) -> bool {
    let lower = tag.to_ascii_lowercase();
    let mut parts = lower.split('-');
    let lang = parts.next().unwrap_or("");
    let script_rtl = lower
        .split('-')
        .any(|p| matches!(p, "arab" | "hebr" | "syrc" | "thaa" | "nkoo" | "adlm"));
    let script_ltr = lower.split('-').any(|p| matches!(p, "latn" | "cyrl"));
    script_rtl
        || (!script_ltr
            && matches!(
                lang,
                "ar" | "he" | "iw" | "fa" | "ur" | "yi" | "ps" | "sd" | "ug" | "dv" | "ckb" | "syr"
            ))
}

fn sort_key(c: &Common) -> (bool, i64, String, String) {
    (
        c.order.is_none(),
        c.order.unwrap_or(0),
        c.title.to_lowercase(),
        c.id.clone(),
    )
}

/// Validates `sources` and builds the study. Every problem found is added to `diags`;
/// `None` is returned when any of them is an error.
///
/// The study is returned even when there are errors, with the faulty records left
/// out, so that later stages can still report their own problems in the same run;
/// callers must not publish it when `diags` has errors.
pub fn build_study(sources: Sources, opts: ModelOptions, diags: &mut Diagnostics) -> Study {
    let Sources {
        map,
        study,
        home,
        pages,
        quotes,
        broken,
        privacy,
    } = sources;
    let invalid: HashSet<(RefKind, String)> = broken
        .into_iter()
        .filter_map(|(kind, id)| RefKind::from_name(kind).map(|k| (k, id)))
        .collect();
    let mut v = Validator {
        map: &map,
        diags,
        invalid,
    };
    let study_file = study.as_ref().and_then(|s| s.file);
    let (meta, site_theme_loc) = v.meta(study.unwrap_or_default());

    // Pages by kind, with ids checked and duplicates reported.
    let mut by_kind: HashMap<PageKind, Vec<PageRecord>> = HashMap::default();
    for p in pages {
        by_kind.entry(p.kind).or_default().push(p);
    }
    let theme_recs = v.unique_pages(by_kind.remove(&PageKind::Theme).unwrap_or_default());
    let site_recs = v.unique_pages(by_kind.remove(&PageKind::Site).unwrap_or_default());
    let group_recs = v.unique_pages(by_kind.remove(&PageKind::Group).unwrap_or_default());
    let finding_recs = v.unique_pages(by_kind.remove(&PageKind::Finding).unwrap_or_default());

    let mut withheld: HashSet<(RefKind, String)> = HashSet::default();
    let themes = v.theme_tree(theme_recs, opts, &mut withheld);
    let sites: Vec<Site> = v
        .keep_published(site_recs, opts, RefKind::Site, &mut withheld)
        .into_iter()
        .map(|r| v.site(r))
        .collect();
    let groups: Vec<Group> = v
        .keep_published(group_recs, opts, RefKind::Group, &mut withheld)
        .into_iter()
        .map(|r| Group { common: common(r) })
        .collect();
    let findings: Vec<Finding> = v
        .keep_published(finding_recs, opts, RefKind::Finding, &mut withheld)
        .into_iter()
        .map(|r| Finding { common: common(r) })
        .collect();
    let mut sites = sites;
    sites.sort_by_key(|s| sort_key(&s.common));
    let mut groups = groups;
    groups.sort_by_key(|g| sort_key(&g.common));
    let mut findings = findings;
    findings.sort_by_key(|f| sort_key(&f.common));

    let mut index = Index {
        theme_by_id: themes
            .iter()
            .enumerate()
            .map(|(i, t)| (t.common.id.clone(), i))
            .collect(),
        site_by_id: sites
            .iter()
            .enumerate()
            .map(|(i, s)| (s.common.id.clone(), i))
            .collect(),
        group_by_id: groups
            .iter()
            .enumerate()
            .map(|(i, g)| (g.common.id.clone(), i))
            .collect(),
        finding_by_id: findings
            .iter()
            .enumerate()
            .map(|(i, f)| (f.common.id.clone(), i))
            .collect(),
        ..Index::default()
    };
    let privacy = v.privacy(privacy.unwrap_or_default());
    let (quotes, withdrawn_quotes) = v.withdraw(quotes, &privacy, &mut index);
    let (quotes, draft_quotes_left_out) = v.quotes(quotes, opts, &index, &mut withheld);
    index.quote_by_id = quotes
        .iter()
        .enumerate()
        .map(|(i, q)| (q.id.clone(), i))
        .collect();
    index.withheld = withheld;
    index.invalid = std::mem::take(&mut v.invalid);

    let home = home.map(|h| Home {
        title: h.title,
        doc: Doc {
            file: h.file,
            body: h.body,
            body_line: h.body_line,
        },
    });

    let mut study = Study {
        meta,
        study_file,
        site_theme_loc,
        home,
        themes,
        sites,
        groups,
        findings,
        quotes,
        index,
        draft_quotes_left_out,
        withdrawn_quotes,
        privacy,
        sources: SourceMap::default(),
    };
    fill_quote_indexes(&mut study);
    // With errors, records are missing and "unused" warnings would only be echoes.
    if !diags.has_errors() {
        warn_unused(&study, &map, diags);
    }
    study.sources = map;
    study
}

fn common(r: PageRecord) -> Common {
    Common {
        title: r.title.unwrap_or_else(|| r.id.value.clone()),
        id: r.id.value,
        order: r.order,
        summary: r.summary,
        draft: r.draft,
        doc: Doc {
            file: r.file,
            body: r.body,
            body_line: r.body_line,
        },
    }
}

struct Validator<'a> {
    map: &'a SourceMap,
    diags: &'a mut Diagnostics,
    /// Records left out for their own errors: references to them are not reported again.
    invalid: HashSet<(RefKind, String)>,
}

impl Validator<'_> {
    fn error(&mut self, loc: Loc, msg: impl Into<String>) {
        self.diags.push(self.map.error(loc, msg));
    }

    fn meta(&mut self, s: crate::load::StudyRecord) -> (Meta, Option<Loc>) {
        let language = match s.language {
            Some(l) if !is_language_tag(&l.value) => {
                let d = self
                    .map
                    .error(l.loc, format!("`{}` is not a language tag", l.value))
                    .with_hint("use a BCP 47 tag such as `en`, `de` or `pt-BR`");
                self.diags.push(d);
                "en".to_string()
            }
            Some(l) => l.value,
            None => "en".to_string(),
        };
        if let Some(p) = &s.published {
            if !is_iso_date(&p.value) {
                let d = self
                    .map
                    .error(
                        p.loc,
                        format!("`published` must be a date YYYY-MM-DD, found `{}`", p.value),
                    )
                    .with_hint("write it as, for example, `published: 2025-03-31`");
                self.diags.push(d);
            }
        }
        let base_url = s.base_url.as_ref().and_then(|u| {
            let v = u.value.trim();
            if (v.starts_with("https://") || v.starts_with("http://")) && v.len() > 8 && !v.contains(char::is_whitespace) {
                Some(if v.ends_with('/') { v.to_string() } else { format!("{v}/") })
            } else {
                let d = self
                    .map
                    .error(u.loc, format!("`base_url` must be an absolute http(s) URL, found `{v}`"))
                    .with_hint("write the address where the site will be published, such as `https://example.org/my-study/`, or leave it out");
                self.diags.push(d);
                None
            }
        });
        let license = s.license.as_ref().and_then(|l| {
            let v = l.value.trim();
            if (v.starts_with("https://") || v.starts_with("http://")) && !v.contains(char::is_whitespace) {
                Some(License { spdx: None, url: v.to_string(), name: v.to_string() })
            } else if is_spdx_id(v) {
                Some(License {
                    spdx: Some(v.to_string()),
                    url: format!("https://spdx.org/licenses/{v}.html"),
                    name: v.to_string(),
                })
            } else {
                let d = self
                    .map
                    .error(l.loc, format!("`license` must be an SPDX licence id or a URL, found `{v}`"))
                    .with_hint("write, for example, `license: CC-BY-4.0` (ids are listed at https://spdx.org/licenses/), or the address of the licence text");
                self.diags.push(d);
                None
            }
        });
        let page_size = match &s.page_size {
            None => super::DEFAULT_PAGE_SIZE,
            Some(p) if p.value == 0 => {
                let d = self
                    .map
                    .error(p.loc, "`page_size` must be at least 1")
                    .with_hint(format!("lists longer than `page_size` quotes are split into pages; leave it out for {}", super::DEFAULT_PAGE_SIZE));
                self.diags.push(d);
                super::DEFAULT_PAGE_SIZE
            }
            Some(p) => {
                if p.value > super::LARGE_PAGE_SIZE as u64 {
                    let d = self
                        .map
                        .warning(p.loc, format!("`page_size: {}` makes pages of several megabytes, slow to load on a poor connection", p.value))
                        .with_hint(format!("a page of {} quotes weighs about 150 kB; keep `page_size` at {} or below", super::DEFAULT_PAGE_SIZE, super::LARGE_PAGE_SIZE));
                    self.diags.push(d);
                }
                usize::try_from(p.value).unwrap_or(usize::MAX)
            }
        };
        let site_theme_loc = s.site_theme.as_ref().map(|t| t.loc);
        let meta = Meta {
            title: s.title,
            subtitle: s.subtitle,
            description: s.description,
            authors: s.authors,
            language,
            participants: s.participants,
            published: s.published.map(|p| p.value),
            doi: s
                .doi
                .map(|d| d.trim_start_matches("https://doi.org/").to_string()),
            base_url,
            site_theme: s
                .site_theme
                .map(|t| t.value)
                .unwrap_or_else(|| "default".into()),
            notice: s.notice,
            license,
            keywords: s.keywords,
            citation: s.citation,
            page_size,
        };
        (meta, site_theme_loc)
    }

    /// Checks id syntax and uniqueness within one kind; keeps the first of duplicates.
    fn unique_pages(&mut self, recs: Vec<PageRecord>) -> Vec<PageRecord> {
        let mut seen: HashMap<String, Loc> = HashMap::default();
        let mut out = Vec::with_capacity(recs.len());
        for r in recs {
            let kind = r.kind.name();
            if !self.check_id(&r.id, kind) {
                if let Some(k) = RefKind::from_name(kind) {
                    self.invalid.insert((k, r.id.value.clone()));
                }
                continue;
            }
            if let Some(first) = seen.get(&r.id.value) {
                let first_at = self.location(*first);
                let d = self
                    .map
                    .error(r.id.loc, format!("duplicate {kind} id `{}`", r.id.value))
                    .with_hint(format!(
                        "it is already used by {first_at}; give one of them another `id:`"
                    ));
                self.diags.push(d);
                continue;
            }
            seen.insert(r.id.value.clone(), r.id.loc);
            out.push(r);
        }
        out
    }

    fn location(&self, loc: Loc) -> String {
        let file = &self.map.get(loc.file).rel;
        if loc.pos.line > 0 {
            format!("{file}:{}", loc.pos.line)
        } else {
            file.clone()
        }
    }

    fn check_id(&mut self, id: &Spanned<String>, kind: &str) -> bool {
        if is_valid_id(&id.value) {
            return true;
        }
        let suggestion = slugify(&id.value);
        let from_stem = id.loc.pos.line == 1 && !self.map.get(id.loc.file).text.starts_with("id:");
        let mut hint = String::from("ids use lowercase letters a-z, digits and single hyphens");
        if !suggestion.is_empty() {
            hint.push_str(&format!(", such as `{suggestion}`"));
        }
        if from_stem && self.map.get(id.loc.file).rel.ends_with(".md") {
            hint.push_str(" (the id comes from the file name unless front matter sets `id:`)");
        }
        let d = self
            .map
            .error(id.loc, format!("invalid {kind} id `{}`", id.value))
            .with_hint(hint);
        self.diags.push(d);
        false
    }

    fn keep_published(
        &mut self,
        recs: Vec<PageRecord>,
        opts: ModelOptions,
        kind: RefKind,
        withheld: &mut HashSet<(RefKind, String)>,
    ) -> Vec<PageRecord> {
        recs.into_iter()
            .filter(|r| {
                let keep = opts.drafts || !r.draft;
                if !keep {
                    withheld.insert((kind, r.id.value.clone()));
                }
                keep
            })
            .collect()
    }

    fn site(&mut self, r: PageRecord) -> Site {
        let income_level = r.income_level.as_ref().and_then(|l| {
            let parsed = IncomeLevel::parse(&l.value);
            if parsed.is_none() {
                let d = self
                    .map
                    .error(l.loc, format!("unknown income level `{}`", l.value))
                    .with_hint(format!("use one of: {}", IncomeLevel::NAMES.join(", ")));
                self.diags.push(d);
            }
            parsed
        });
        for lang in &r.languages {
            if !is_language_tag(lang) {
                let loc = Loc {
                    file: r.file,
                    pos: self.key_pos(r.file, "languages"),
                };
                let d = self
                    .map
                    .error(loc, format!("`{lang}` is not a language tag"))
                    .with_hint("use BCP 47 tags such as `en`, `sw` or `he`");
                self.diags.push(d);
            }
        }
        Site {
            country: r.country.clone(),
            income_level,
            languages: r.languages.clone(),
            participants: r.participants,
            common: common(r),
        }
    }

    /// Line of a front-matter key, found by a scan of the file (used for list fields).
    fn key_pos(&self, file: FileId, key: &str) -> Position {
        let text = &self.map.get(file).text;
        text.lines()
            .position(|l| l.starts_with(&format!("{key}:")))
            .map(|i| Position::at(i as u32 + 1, 1))
            .unwrap_or(Position::line(1))
    }

    /// Resolves parents, reports unknown parents and cycles, drops drafts, and sorts into tree order.
    fn theme_tree(
        &mut self,
        recs: Vec<PageRecord>,
        opts: ModelOptions,
        withheld: &mut HashSet<(RefKind, String)>,
    ) -> Vec<Theme> {
        let ids: HashMap<&str, usize> = recs
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.value.as_str(), i))
            .collect();
        let mut parent: Vec<Option<usize>> = vec![None; recs.len()];
        let mut errors = Vec::new();
        for (i, r) in recs.iter().enumerate() {
            if let Some(p) = &r.parent {
                match ids.get(p.value.as_str()) {
                    Some(&pi) if pi == i => errors.push(
                        self.map
                            .error(p.loc, format!("theme `{}` is its own parent", r.id.value))
                            .with_hint("remove `parent:` or name another theme"),
                    ),
                    Some(&pi) => parent[i] = Some(pi),
                    // The parent's page has errors of its own, already reported.
                    None if self.invalid.contains(&(RefKind::Theme, p.value.clone())) => {}
                    None => errors.push(
                        self.map
                            .error(p.loc, format!("unknown parent theme `{}`", p.value))
                            .with_hint(did_you_mean(&p.value, ids.keys().copied()).unwrap_or_else(
                                || {
                                    "`parent:` must be the id of another theme in content/themes/"
                                        .into()
                                },
                            )),
                    ),
                }
            }
        }
        // Cycles: walk up from each theme; report each cycle once, at its first theme in file order.
        let mut in_cycle = vec![false; recs.len()];
        for start in 0..recs.len() {
            let mut path = vec![start];
            let mut cur = start;
            while let Some(p) = parent[cur] {
                if let Some(pos) = path.iter().position(|&x| x == p) {
                    let cycle = &path[pos..];
                    if cycle.iter().all(|&c| !in_cycle[c]) && cycle.contains(&start) {
                        let names: Vec<&str> = cycle
                            .iter()
                            .chain(std::iter::once(&p))
                            .map(|&c| recs[c].id.value.as_str())
                            .collect();
                        let at = recs[start]
                            .parent
                            .as_ref()
                            .map(|p| p.loc)
                            .unwrap_or(recs[start].id.loc);
                        errors.push(
                            self.map
                                .error(at, format!("themes form a parent cycle: {}", names.join(" -> ")))
                                .with_hint("one theme in the cycle must be top-level: remove its `parent:`"),
                        );
                        for &c in cycle {
                            in_cycle[c] = true;
                        }
                    }
                    break;
                }
                if path.len() > recs.len() {
                    break;
                }
                path.push(p);
                cur = p;
            }
        }
        self.diags.extend(errors);
        for (i, c) in in_cycle.iter().enumerate() {
            if *c {
                parent[i] = None;
            }
        }
        // Drafts: a draft theme takes its whole subtree with it.
        let mut drafted = vec![false; recs.len()];
        if !opts.drafts {
            for i in 0..recs.len() {
                let mut cur = Some(i);
                let mut guard = 0;
                while let Some(c) = cur {
                    if recs[c].draft {
                        drafted[i] = true;
                        break;
                    }
                    cur = parent[c];
                    guard += 1;
                    if guard > recs.len() {
                        break;
                    }
                }
                if drafted[i] {
                    withheld.insert((RefKind::Theme, recs[i].id.value.clone()));
                }
            }
        }
        // Tree order: sorted roots, each followed by its sorted subtree.
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); recs.len()];
        let mut roots = Vec::new();
        for i in 0..recs.len() {
            if drafted[i] {
                continue;
            }
            match parent[i] {
                Some(p) => children[p].push(i),
                None => roots.push(i),
            }
        }
        let keys: Vec<(bool, i64, String, String)> = recs
            .iter()
            .map(|r| {
                (
                    r.order.is_none(),
                    r.order.unwrap_or(0),
                    r.title.clone().unwrap_or_default().to_lowercase(),
                    r.id.value.clone(),
                )
            })
            .collect();
        roots.sort_by(|a, b| keys[*a].cmp(&keys[*b]));
        for c in &mut children {
            c.sort_by(|a, b| keys[*a].cmp(&keys[*b]));
        }
        let mut order = Vec::new();
        fn visit(i: usize, depth: usize, children: &[Vec<usize>], order: &mut Vec<(usize, usize)>) {
            order.push((i, depth));
            for &c in &children[i] {
                visit(c, depth + 1, children, order);
            }
        }
        for &r in &roots {
            visit(r, 0, &children, &mut order);
        }
        let new_ix: HashMap<usize, usize> = order
            .iter()
            .enumerate()
            .map(|(n, (i, _))| (*i, n))
            .collect();
        let mut recs: Vec<Option<PageRecord>> = recs.into_iter().map(Some).collect();
        order
            .iter()
            .map(|&(i, depth)| {
                let r = recs[i].take().expect("each theme is visited once");
                Theme {
                    color: r.color.clone(),
                    parent: parent[i].map(|p| new_ix[&p]),
                    children: children[i].iter().map(|c| new_ix[c]).collect(),
                    depth,
                    common: common(r),
                }
            })
            .collect()
    }

    fn quotes(
        &mut self,
        recs: Vec<QuoteRecord>,
        opts: ModelOptions,
        index: &Index,
        withheld: &mut HashSet<(RefKind, String)>,
    ) -> (Vec<Quote>, usize) {
        let firsts = first_of_same_id(&recs);
        let mut out = Vec::with_capacity(recs.len());
        let mut left_out = 0;
        for (r, first) in recs.into_iter().zip(firsts) {
            let mut ok = self.check_id(&r.id, "quote");
            if let Some(first) = first {
                let first_at = self.location(first);
                let d = self
                    .map
                    .error(r.id.loc, format!("duplicate quote id `{}`", r.id.value))
                    .with_hint(format!("it is already used by the quote at {first_at}; quote ids are unique across the study"));
                self.diags.push(d);
                ok = false;
            }
            let site = self.resolve(
                Spanned {
                    value: r.site.value.as_str(),
                    loc: r.site.loc,
                },
                RefKind::Site,
                &index.site_by_id,
                withheld,
                &r.id.value,
            );
            let group = self.resolve(
                Spanned {
                    value: r.group.value.as_str(),
                    loc: r.group.loc,
                },
                RefKind::Group,
                &index.group_by_id,
                withheld,
                &r.id.value,
            );
            let mut themes = Vec::new();
            let mut dropped_draft_theme = false;
            if r.themes.value.is_empty() {
                let d = self
                    .map
                    .error(
                        r.themes.loc,
                        format!("quote `{}` has no themes", r.id.value),
                    )
                    .with_hint("list at least one theme id, such as `themes: [barriers]`");
                self.diags.push(d);
                ok = false;
            }
            for t in &r.themes.value {
                match self.resolve(
                    Spanned {
                        value: t.as_str(),
                        loc: r.themes.loc,
                    },
                    RefKind::Theme,
                    &index.theme_by_id,
                    withheld,
                    &r.id.value,
                ) {
                    Resolved::Found(i) => {
                        if !themes.contains(&i) {
                            themes.push(i);
                        }
                    }
                    Resolved::Withheld => dropped_draft_theme = true,
                    Resolved::Unknown => ok = false,
                }
            }
            if r.text.trim().is_empty() {
                let loc = r.text_loc;
                self.error(loc, format!("quote `{}` has empty `text`", r.id.value));
                ok = false;
            }
            let original = r.original.as_ref().and_then(|o| {
                if !is_language_tag(&o.value.lang) {
                    let d = self
                        .map
                        .error(o.loc, format!("`{}` is not a language tag", o.value.lang))
                        .with_hint(
                            "use a BCP 47 tag such as `sw`, `he` or `ar` for `original.lang`",
                        );
                    self.diags.push(d);
                    return None;
                }
                Some(OriginalText {
                    rtl: is_rtl(&o.value.lang),
                    lang: o.value.lang.clone(),
                    text: o.value.text.clone(),
                })
            });
            let (Resolved::Found(site), Resolved::Found(group)) = (site, group) else {
                if matches!(site, Resolved::Unknown) || matches!(group, Resolved::Unknown) {
                    self.invalid.insert((RefKind::Quote, r.id.value.clone()));
                } else {
                    // At a draft site or in a draft group: left out with it.
                    left_out += 1;
                    withheld.insert((RefKind::Quote, r.id.value.clone()));
                }
                continue;
            };
            if !ok {
                self.invalid.insert((RefKind::Quote, r.id.value.clone()));
                continue;
            }
            if r.draft && !opts.drafts {
                left_out += 1;
                withheld.insert((RefKind::Quote, r.id.value.clone()));
                continue;
            }
            if themes.is_empty() && dropped_draft_theme {
                // Every theme of this quote is a draft: it has nowhere to be shown.
                left_out += 1;
                withheld.insert((RefKind::Quote, r.id.value.clone()));
                continue;
            }
            out.push(Quote {
                id: r.id.value,
                // Numbered below, once every quote is in.
                participant_key: 0,
                participant: r.participant.value,
                site,
                group,
                themes,
                text: r.text,
                original,
                context: r.context,
                draft: r.draft,
                loc: r.loc,
                text_loc: r.text_loc,
            });
        }
        number_participants(&mut out);
        (out, left_out)
    }

    /// Checks privacy.yaml's values and turns them into the policy.
    fn privacy(&mut self, p: crate::load::PrivacyRecord) -> Privacy {
        let small_cells = match p.small_cells.as_ref().map(|s| s.value.as_str()) {
            None | Some("warn") => SmallCells::Warn,
            Some("error") => SmallCells::Error,
            Some("suppress") => SmallCells::Suppress,
            Some(other) => {
                let loc = p.small_cells.as_ref().map(|s| s.loc).expect("present");
                let d = self
                    .map
                    .error(loc, format!("unknown `small_cells` value `{other}`"))
                    .with_hint("use one of: warn, error, suppress");
                self.diags.push(d);
                SmallCells::Warn
            }
        };
        if p.small_cells.is_some() && p.min_cell_participants.is_none() {
            let loc = p.small_cells.as_ref().map(|s| s.loc).expect("present");
            let d = self
                .map
                .warning(
                    loc,
                    "`small_cells` has no effect without `min_cell_participants`",
                )
                .with_hint("add `min_cell_participants: 3` (or your threshold)");
            self.diags.push(d);
        }
        let names = match p.names.as_ref().map(|n| n.value.as_str()) {
            None | Some("off") => false,
            Some("warn") => true,
            Some(other) => {
                let loc = p.names.as_ref().map(|s| s.loc).expect("present");
                let d = self
                    .map
                    .error(loc, format!("unknown `names` value `{other}`"))
                    .with_hint("use `warn` to flag names found in one quote only, or `off`");
                self.diags.push(d);
                false
            }
        };
        for id in &p.identifiers {
            if id.value.trim().is_empty() {
                self.diags.push(
                    self.map
                        .error(id.loc, "an empty identifier matches nothing"),
                );
            }
        }
        let mut allow = HashMap::default();
        for (quote, checks) in p.allow {
            for c in &checks {
                if !crate::model::PATTERN_CHECKS.contains(&c.as_str()) {
                    let d = self
                        .map
                        .error(
                            quote.loc,
                            format!("unknown check `{c}` in `allow` for quote `{}`", quote.value),
                        )
                        .with_hint(format!(
                            "checks that can be allowed: {}",
                            crate::model::PATTERN_CHECKS.join(", ")
                        ));
                    self.diags.push(d);
                }
            }
            allow.insert(quote.value, (checks, quote.loc));
        }
        Privacy {
            file: p.file,
            identifiers: p
                .identifiers
                .into_iter()
                .map(|s| (s.value, s.loc))
                .collect(),
            withdrawn: p.withdrawn.into_iter().map(|s| (s.value, s.loc)).collect(),
            small_cells_loc: p
                .small_cells
                .map(|s| s.loc)
                .or(p.min_cell_participants.as_ref().map(|m| m.loc)),
            min_cell_participants: p.min_cell_participants.map(|m| m.value),
            small_cells,
            allow,
            names,
        }
    }

    /// Takes out the quotes of withdrawn participants, before anything else sees them.
    fn withdraw(
        &mut self,
        quotes: Vec<QuoteRecord>,
        privacy: &Privacy,
        index: &mut Index,
    ) -> (Vec<QuoteRecord>, usize) {
        if privacy.withdrawn.is_empty() {
            return (quotes, 0);
        }
        let codes: HashMap<String, Loc> = privacy
            .withdrawn
            .iter()
            .map(|(c, l)| (c.trim().to_lowercase(), *l))
            .collect();
        let mut matched: HashSet<String> = HashSet::default();
        let mut kept = Vec::with_capacity(quotes.len());
        let mut withheld = 0;
        for q in quotes {
            let code = q.participant.value.trim().to_lowercase();
            if codes.contains_key(&code) {
                matched.insert(code);
                index.withdrawn.insert(q.id.value.clone());
                withheld += 1;
            } else {
                kept.push(q);
            }
        }
        for (code, loc) in &privacy.withdrawn {
            if !matched.contains(&code.trim().to_lowercase()) {
                let d = self
                    .map
                    .warning(*loc, format!("withdrawn participant `{code}` has no quotes: is the code mistyped?"))
                    .with_hint("participant codes are compared ignoring case; check the `participant:` of the quotes");
                self.diags.push(d);
            }
        }
        (kept, withheld)
    }

    fn resolve(
        &mut self,
        reference: Spanned<&str>,
        kind: RefKind,
        ids: &HashMap<String, usize>,
        withheld: &HashSet<(RefKind, String)>,
        quote_id: &str,
    ) -> Resolved {
        if let Some(&i) = ids.get(reference.value) {
            return Resolved::Found(i);
        }
        if withheld.contains(&(kind, reference.value.to_string())) {
            return Resolved::Withheld;
        }
        if self.invalid.contains(&(kind, reference.value.to_string())) {
            return Resolved::Unknown;
        }
        let known = ids.keys().map(String::as_str).chain(
            withheld
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, id)| id.as_str()),
        );
        let folder = match kind {
            RefKind::Theme => "content/themes/",
            RefKind::Site => "content/sites/",
            RefKind::Group => "content/groups/",
            RefKind::Finding => "content/findings/",
            RefKind::Quote => "content/quotes/",
        };
        let mut known: Vec<&str> = known.collect();
        known.sort_unstable();
        let several: Vec<&str> = reference.value.split(',').map(str::trim).collect();
        let hint = did_you_mean(reference.value, known.iter().copied()).unwrap_or_else(|| {
            if kind == RefKind::Theme && several.len() > 1 {
                // `themes: care, waiting` is one text to YAML, not two themes.
                format!(
                    "to give several themes, write a list: `themes: [{}]`",
                    several.join(", ")
                )
            } else if known.is_empty() {
                format!("each {} needs a file in {folder}", kind.name())
            } else if known.len() <= 12 {
                format!("known {}s: {}", kind.name(), known.join(", "))
            } else {
                format!("each {} needs a file in {folder}", kind.name())
            }
        });
        let d = self
            .map
            .error(
                reference.loc,
                format!(
                    "unknown {} `{}` in quote `{quote_id}`",
                    kind.name(),
                    reference.value
                ),
            )
            .with_hint(hint);
        self.diags.push(d);
        Resolved::Unknown
    }
}

/// For each quote record, where the first record with the same id is, if it
/// is not the first itself. Borrowing the ids: cloning each would cost more than
/// the check.
fn first_of_same_id(recs: &[QuoteRecord]) -> Vec<Option<Loc>> {
    let mut seen: HashMap<&str, Loc> =
        HashMap::with_capacity_and_hasher(recs.len(), Default::default());
    recs.iter()
        .map(|r| match seen.entry(r.id.value.as_str()) {
            std::collections::hash_map::Entry::Occupied(first) => Some(*first.get()),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(r.id.loc);
                None
            }
        })
        .collect()
}

/// Gives each quote its `participant_key`: a small number per distinct (site,
/// participant), in order of first appearance.
fn number_participants(quotes: &mut [Quote]) {
    let mut keys: HashMap<(SiteIx, &str), u32> = HashMap::default();
    let numbered: Vec<u32> = quotes
        .iter()
        .map(|q| {
            let next = keys.len() as u32;
            *keys.entry((q.site, q.participant.as_str())).or_insert(next)
        })
        .collect();
    for (q, key) in quotes.iter_mut().zip(numbered) {
        q.participant_key = key;
    }
}

#[derive(Debug, Clone, Copy)]
enum Resolved {
    Found(usize),
    Withheld,
    Unknown,
}

/// An SPDX licence id or expression term: letters, digits, `.`, `-` and `+`, such as
/// `CC-BY-4.0`, `CC0-1.0` or `LicenseRef-own`. The list of ids grows; the shape is
/// what can be checked without it.
fn is_spdx_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
}

fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && (1..=12).contains(&s[5..7].parse::<u32>().unwrap_or(0))
        && (1..=31).contains(&s[8..10].parse::<u32>().unwrap_or(0))
}

/// Fills the quote lookups: roll-up by theme, by site, by group, by theme and site.
fn fill_quote_indexes(study: &mut Study) {
    let nt = study.themes.len();
    let ns = study.sites.len();
    let mut theme_quotes = vec![Vec::new(); nt];
    let mut theme_site = vec![vec![Vec::new(); ns]; nt];
    let mut site_quotes = vec![Vec::new(); ns];
    let mut group_quotes = vec![Vec::new(); study.groups.len()];
    let mut mark = vec![usize::MAX; nt];
    for (qi, q) in study.quotes.iter().enumerate() {
        site_quotes[q.site].push(qi);
        group_quotes[q.group].push(qi);
        for &t in &q.themes {
            let mut cur = Some(t);
            while let Some(c) = cur {
                // `mark` makes a quote count once per theme even when tagged with two of its subthemes.
                if mark[c] == qi {
                    break;
                }
                mark[c] = qi;
                theme_quotes[c].push(qi);
                theme_site[c][q.site].push(qi);
                cur = study.themes[c].parent;
            }
        }
    }
    study.index.theme_quotes = theme_quotes;
    study.index.theme_site_quotes = theme_site;
    study.index.site_quotes = site_quotes;
    study.index.group_quotes = group_quotes;
}

fn warn_unused(study: &Study, map: &SourceMap, diags: &mut Diagnostics) {
    let at = |doc: &Doc| Loc {
        file: doc.file,
        pos: Position::line(1),
    };
    for (i, t) in study.themes.iter().enumerate() {
        if study.index.theme_quotes[i].is_empty() {
            diags.push(
                map.warning(
                    at(&t.common.doc),
                    format!("theme `{}` has no quotes", t.common.id),
                )
                .with_hint("tag quotes with it in content/quotes/, or remove it from the codebook"),
            );
        }
    }
    for (i, s) in study.sites.iter().enumerate() {
        if study.index.site_quotes[i].is_empty() {
            diags.push(map.warning(
                at(&s.common.doc),
                format!("site `{}` has no quotes", s.common.id),
            ));
        }
    }
    for (i, g) in study.groups.iter().enumerate() {
        if study.index.group_quotes[i].is_empty() {
            diags.push(map.warning(
                at(&g.common.doc),
                format!("group `{}` has no quotes", g.common.id),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(is_valid_id("barriers"));
        assert!(is_valid_id("ug-07"));
        assert!(!is_valid_id("Barriers"));
        assert!(!is_valid_id("a--b"));
        assert!(!is_valid_id("-a"));
        assert!(!is_valid_id(""));
        assert_eq!(slugify("Active Ingredients!"), "active-ingredients");
        assert_eq!(slugify("São Paulo"), "sao-paulo");
        assert_eq!(slugify("Zugehörigkeit / Straße"), "zugehorigkeit-strasse");
        assert_eq!(slugify("שלום"), "");
    }

    #[test]
    fn languages_and_direction() {
        assert!(is_language_tag("en"));
        assert!(is_language_tag("pt-BR"));
        assert!(!is_language_tag("english language"));
        assert!(is_rtl("he"));
        assert!(is_rtl("ar-EG"));
        assert!(is_rtl("pa-Arab"));
        assert!(!is_rtl("sw"));
        assert!(!is_rtl("ku-Latn"));
    }

    #[test]
    fn dates() {
        assert!(is_iso_date("2025-03-31"));
        assert!(!is_iso_date("31.03.2025"));
        assert!(!is_iso_date("2025-13-01"));
    }
}

//! Stage 2: the validated study.
//!
//! `model` turns loaded records into a [`Study`] whose references are all
//! resolved to indexes, whose drafts are decided, and whose lookups
//! (quotes by theme with roll-up, by site, by group, by theme and site) are
//! computed once. It knows nothing about HTML.

mod validate;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::load::{Author, FileId, Loc, SourceMap};
pub use validate::{build_study, slugify};

/// Choices that change what the model contains.
#[derive(Debug, Clone, Copy, Default)]
pub struct ModelOptions {
    /// Keep drafts (and mark them) instead of leaving them out.
    pub drafts: bool,
}

/// Study-wide metadata from `study.yaml`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Meta {
    /// Title.
    pub title: String,
    /// Subtitle.
    pub subtitle: Option<String>,
    /// Plain-text description.
    pub description: Option<String>,
    /// Authors.
    pub authors: Vec<Author>,
    /// BCP 47 language of the site.
    pub language: String,
    /// Number of participants.
    pub participants: Option<u32>,
    /// Publication date.
    pub published: Option<String>,
    /// DOI, without the resolver prefix.
    pub doi: Option<String>,
    /// Absolute URL of the site, ending in `/`.
    pub base_url: Option<String>,
    /// Name of the site theme.
    pub site_theme: String,
    /// Notice shown on every page.
    pub notice: Option<String>,
    /// Licence of the published findings and data.
    pub license: Option<License>,
    /// Keywords.
    pub keywords: Vec<String>,
    /// How to cite the study, as written in study.yaml; derived when `None`.
    pub citation: Option<String>,
    /// Quotes per page: longer lists are split into pages of this many.
    pub page_size: usize,
}

/// Quotes per page when study.yaml does not say: about 150 kB of HTML.
pub const DEFAULT_PAGE_SIZE: usize = 100;
/// Above this `page_size`, a full page passes 1 MB and `check` warns.
pub const LARGE_PAGE_SIZE: usize = 500;

/// A licence: an SPDX identifier with its page, or only a URL.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct License {
    /// SPDX identifier, such as `CC-BY-4.0`, when one was given.
    pub spdx: Option<String>,
    /// Where the licence text is.
    pub url: String,
    /// What to call it: the SPDX id, or the URL.
    pub name: String,
}

/// A Markdown body and where it starts, for diagnostics while rendering.
#[derive(Debug, Clone)]
pub struct Doc {
    /// The file.
    pub file: FileId,
    /// The Markdown text.
    pub body: String,
    /// 1-based line of the body's first line in the file.
    pub body_line: u32,
}

/// Fields every page kind has.
#[derive(Debug, Clone)]
pub struct Common {
    /// Unique id within its kind.
    pub id: String,
    /// Title.
    pub title: String,
    /// Sort key.
    pub order: Option<i64>,
    /// Plain-text summary.
    pub summary: Option<String>,
    /// Only present when drafts are built.
    pub draft: bool,
    /// The body.
    pub doc: Doc,
}

/// An analytic theme; themes form a tree through `parent`.
#[derive(Debug, Clone)]
pub struct Theme {
    /// Shared fields.
    pub common: Common,
    /// Display colour.
    pub color: Option<String>,
    /// Parent theme.
    pub parent: Option<ThemeIx>,
    /// Child themes, sorted.
    pub children: Vec<ThemeIx>,
    /// 0 for top-level themes.
    pub depth: usize,
}

/// A study site.
#[derive(Debug, Clone)]
pub struct Site {
    /// Shared fields.
    pub common: Common,
    /// Country.
    pub country: Option<String>,
    /// Income level.
    pub income_level: Option<IncomeLevel>,
    /// Languages (BCP 47).
    pub languages: Vec<String>,
    /// Participants at the site, as stated by the author.
    pub participants: Option<u32>,
}

/// World Bank income levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IncomeLevel {
    /// High income.
    High,
    /// Upper-middle income.
    UpperMiddle,
    /// Lower-middle income.
    LowerMiddle,
    /// Low income.
    Low,
}

impl IncomeLevel {
    /// All values as written in front matter.
    pub const NAMES: [&'static str; 4] = ["high", "upper-middle", "lower-middle", "low"];

    /// Parses the front-matter spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "high" => Some(Self::High),
            "upper-middle" => Some(Self::UpperMiddle),
            "lower-middle" => Some(Self::LowerMiddle),
            "low" => Some(Self::Low),
            _ => None,
        }
    }

    /// Plain-language label.
    pub fn label(self) -> &'static str {
        match self {
            Self::High => "High income",
            Self::UpperMiddle => "Upper-middle income",
            Self::LowerMiddle => "Lower-middle income",
            Self::Low => "Low income",
        }
    }
}

/// A responder group.
#[derive(Debug, Clone)]
pub struct Group {
    /// Shared fields.
    pub common: Common,
}

/// A findings page.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Shared fields.
    pub common: Common,
}

/// The home-page narrative.
#[derive(Debug, Clone)]
pub struct Home {
    /// Title shown above the narrative, if any.
    pub title: Option<String>,
    /// The narrative.
    pub doc: Doc,
}

/// Original-language text of a quote.
#[derive(Debug, Clone)]
pub struct OriginalText {
    /// BCP 47 code.
    pub lang: String,
    /// The text.
    pub text: String,
    /// Written right to left (Arabic, Hebrew, ...).
    pub rtl: bool,
}

/// A quote.
#[derive(Debug, Clone)]
pub struct Quote {
    /// Unique id.
    pub id: String,
    /// Pseudonymous participant code.
    pub participant: String,
    /// A small number per distinct (site, participant), for counting without hashing.
    pub participant_key: u32,
    /// Site.
    pub site: SiteIx,
    /// Group.
    pub group: GroupIx,
    /// Themes as tagged (first one decides the quote's home page), drafts removed.
    pub themes: Vec<ThemeIx>,
    /// Verbatim text.
    pub text: String,
    /// Original-language text.
    pub original: Option<OriginalText>,
    /// Context.
    pub context: Option<String>,
    /// Only present when drafts are built.
    pub draft: bool,
    /// Where it was written.
    pub loc: Loc,
    /// Where its `text` is written.
    pub text_loc: Loc,
}

/// Index of a theme in [`Study::themes`].
pub type ThemeIx = usize;
/// Index of a site in [`Study::sites`].
pub type SiteIx = usize;
/// Index of a group in [`Study::groups`].
pub type GroupIx = usize;
/// Index of a quote in [`Study::quotes`].
pub type QuoteIx = usize;

/// Quotes and distinct participants behind a set of quotes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    /// Number of quotes.
    pub quotes: usize,
    /// Number of distinct participants.
    pub participants: usize,
    /// Counts of participants from 1 up to this (exclusive) are published as `<k`
    /// (privacy.yaml's `small_cells: suppress`); 0 publishes every number.
    pub hide_below: u32,
}

impl Count {
    /// True when the participant count is published as `<k`, not as a number.
    pub fn is_hidden(&self) -> bool {
        self.participants > 0 && (self.participants as u32) < self.hide_below
    }
}

/// What templates see: `participants` is a number, or the text `<k` for small cells
/// when they are suppressed; `participants_label` is ready to print.
impl serde::Serialize for Count {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Count", 4)?;
        st.serialize_field("quotes", &self.quotes)?;
        if self.is_hidden() {
            let shown = format!("<{}", self.hide_below);
            st.serialize_field("participants", &shown)?;
            st.serialize_field(
                "participants_label",
                &format!("fewer than {} participants", self.hide_below),
            )?;
        } else {
            st.serialize_field("participants", &self.participants)?;
            let label = if self.participants == 1 {
                "1 participant".to_string()
            } else {
                format!("{} participants", self.participants)
            };
            st.serialize_field("participants_label", &label)?;
        }
        st.serialize_field("hidden", &self.is_hidden())?;
        st.end()
    }
}

/// The pattern checks of the privacy guard, by the names `allow:` uses.
pub const PATTERN_CHECKS: &[&str] = &["email", "phone", "url", "date", "digits", "names"];

/// What to do with published counts of fewer than k distinct participants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmallCells {
    /// Report them as warnings.
    #[default]
    Warn,
    /// Fail the build.
    Error,
    /// Publish `<k` instead of the number.
    Suppress,
}

/// The privacy policy from `content/privacy.yaml` (never published).
#[derive(Debug, Clone, Default)]
pub struct Privacy {
    /// Where it was read from.
    pub file: Option<FileId>,
    /// Denylisted identifiers, with where each is written (its rule number is its index + 1).
    pub identifiers: Vec<(String, Loc)>,
    /// Withdrawn participant codes, as written.
    pub withdrawn: Vec<(String, Loc)>,
    /// The k threshold for participant counts.
    pub min_cell_participants: Option<u32>,
    /// How small counts are handled.
    pub small_cells: SmallCells,
    /// Where `small_cells` (or the threshold) is written.
    pub small_cells_loc: Option<Loc>,
    /// Checks silenced per quote id.
    pub allow: HashMap<String, (Vec<String>, Loc)>,
    /// Flag capitalised names that appear in one quote only.
    pub names: bool,
}

/// What a reference in Markdown points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefKind {
    /// `theme:ID`
    Theme,
    /// `site:ID`
    Site,
    /// `group:ID`
    Group,
    /// `finding:ID`
    Finding,
    /// `quote:ID`
    Quote,
}

impl RefKind {
    /// The kind with this scheme word.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "theme" => Some(RefKind::Theme),
            "site" => Some(RefKind::Site),
            "group" => Some(RefKind::Group),
            "finding" => Some(RefKind::Finding),
            "quote" => Some(RefKind::Quote),
            _ => None,
        }
    }

    /// The scheme word.
    pub fn name(self) -> &'static str {
        match self {
            RefKind::Theme => "theme",
            RefKind::Site => "site",
            RefKind::Group => "group",
            RefKind::Finding => "finding",
            RefKind::Quote => "quote",
        }
    }
}

/// Lookups computed once for the whole study.
#[derive(Debug, Clone, Default)]
pub struct Index {
    /// Theme id to index.
    pub theme_by_id: HashMap<String, ThemeIx>,
    /// Site id to index.
    pub site_by_id: HashMap<String, SiteIx>,
    /// Group id to index.
    pub group_by_id: HashMap<String, GroupIx>,
    /// Finding id to index.
    pub finding_by_id: HashMap<String, usize>,
    /// Quote id to index.
    pub quote_by_id: HashMap<String, QuoteIx>,
    /// Quotes of each theme and its descendants, in study order.
    pub theme_quotes: Vec<Vec<QuoteIx>>,
    /// Quotes of each theme (with descendants) at each site: `[theme][site]`.
    pub theme_site_quotes: Vec<Vec<Vec<QuoteIx>>>,
    /// Quotes of each site.
    pub site_quotes: Vec<Vec<QuoteIx>>,
    /// Quotes of each group.
    pub group_quotes: Vec<Vec<QuoteIx>>,
    /// Ids that exist in the sources but are drafts left out of this build.
    pub withheld: HashSet<(RefKind, String)>,
    /// Ids of quotes withheld because their participant withdrew consent.
    pub withdrawn: HashSet<String>,
    /// Ids of records left out because they have errors (already reported):
    /// references to them are not reported a second time.
    pub invalid: HashSet<(RefKind, String)>,
}

/// A validated study, ready to render.
#[derive(Debug)]
pub struct Study {
    /// Metadata.
    pub meta: Meta,
    /// `content/study.yaml`.
    pub study_file: Option<FileId>,
    /// Where `site_theme` was written, for errors about the site theme.
    pub site_theme_loc: Option<Loc>,
    /// Home narrative.
    pub home: Option<Home>,
    /// Themes in tree order (each parent before its children, siblings sorted).
    pub themes: Vec<Theme>,
    /// Sites, sorted.
    pub sites: Vec<Site>,
    /// Groups, sorted.
    pub groups: Vec<Group>,
    /// Findings, sorted.
    pub findings: Vec<Finding>,
    /// Quotes, in file order.
    pub quotes: Vec<Quote>,
    /// Lookups.
    pub index: Index,
    /// Number of draft quotes left out of this build.
    pub draft_quotes_left_out: usize,
    /// Number of quotes withheld because their participant withdrew.
    pub withdrawn_quotes: usize,
    /// The privacy policy.
    pub privacy: Privacy,
    /// The source files, for diagnostics while rendering.
    pub sources: SourceMap,
}

impl Study {
    /// Quotes and distinct participants among `quotes`.
    pub fn count(&self, quotes: &[QuoteIx]) -> Count {
        // Counting runs for every cell of every table: a reusable stamp array per
        // thread beats a hash set by a wide margin.
        thread_local! {
            static STAMPS: std::cell::RefCell<(Vec<u32>, u32)> = const { std::cell::RefCell::new((Vec::new(), 0)) };
        }
        STAMPS.with(|cell| {
            let (stamps, round) = &mut *cell.borrow_mut();
            *round = round.wrapping_add(1);
            if *round == 0 {
                stamps.iter_mut().for_each(|s| *s = 0);
                *round = 1;
            }
            let mut participants = 0;
            for &q in quotes {
                let key = self.quotes[q].participant_key as usize;
                if key >= stamps.len() {
                    stamps.resize(key + 1, 0);
                }
                if stamps[key] != *round {
                    stamps[key] = *round;
                    participants += 1;
                }
            }
            Count {
                quotes: quotes.len(),
                participants,
                hide_below: match self.privacy.small_cells {
                    SmallCells::Suppress => self.privacy.min_cell_participants.unwrap_or(0),
                    _ => 0,
                },
            }
        })
    }

    /// `themes` and all their ancestors, each once, in tree order: what a quote
    /// tagged with `themes` counts under.
    pub fn themes_with_ancestors(&self, themes: &[ThemeIx]) -> Vec<ThemeIx> {
        let mut all: Vec<ThemeIx> = Vec::with_capacity(themes.len() * 2);
        for &t in themes {
            let mut cur = Some(t);
            while let Some(x) = cur {
                all.push(x);
                cur = self.themes[x].parent;
            }
        }
        all.sort_unstable();
        all.dedup();
        all
    }

    /// The top-level theme above `t` (or `t` itself).
    pub fn root_of(&self, mut t: ThemeIx) -> ThemeIx {
        while let Some(p) = self.themes[t].parent {
            t = p;
        }
        t
    }

    /// True when `t` is `ancestor` or below it.
    pub fn is_within(&self, mut t: ThemeIx, ancestor: ThemeIx) -> bool {
        loop {
            if t == ancestor {
                return true;
            }
            match self.themes[t].parent {
                Some(p) => t = p,
                None => return false,
            }
        }
    }

    /// `t` and all its descendants, in tree order.
    pub fn subtree(&self, t: ThemeIx) -> Vec<ThemeIx> {
        let mut ordered = Vec::new();
        self.push_preorder(t, &mut ordered);
        ordered
    }

    fn push_preorder(&self, t: ThemeIx, out: &mut Vec<ThemeIx>) {
        out.push(t);
        for &c in &self.themes[t].children {
            self.push_preorder(c, out);
        }
    }

    /// Top-level themes in order.
    pub fn top_themes(&self) -> impl Iterator<Item = ThemeIx> + '_ {
        (0..self.themes.len()).filter(|&t| self.themes[t].parent.is_none())
    }

    /// Number of themes below the top level.
    pub fn subtheme_count(&self) -> usize {
        self.themes.iter().filter(|t| t.parent.is_some()).count()
    }
}

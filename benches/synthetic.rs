//! A deterministic synthetic study for benchmarks: N quotes of 40 to 120 words
//! (about half from a small list of everyday words, half from a long-tailed
//! vocabulary of 50,000 made-up words, as real text has a few very common words and
//! many rare ones),
//! 8 themes with 4 subthemes each, 6 sites (50 at 100,000 quotes and more), 3 groups, 20 findings pages with
//! cross-references and quote embeds; each quote tagged with 1 to 3 subthemes.
//! Quotes are written one file per participant (about 33 quotes each), as a
//! team that keeps one file per interview would.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

/// A small deterministic pseudo-random generator (xorshift), so the study is the same on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

const WORDS: &[&str] = &[
    "peer",
    "support",
    "group",
    "meeting",
    "hope",
    "family",
    "work",
    "travel",
    "bus",
    "phone",
    "clinic",
    "doctor",
    "friend",
    "talk",
    "listen",
    "understood",
    "stigma",
    "recovery",
    "medication",
    "village",
    "money",
    "time",
    "trust",
    "week",
    "together",
    "alone",
    "because",
    "when",
    "she",
    "he",
    "we",
    "they",
    "was",
    "felt",
    "could",
    "never",
    "always",
    "again",
    "better",
    "worse",
    "started",
    "stopped",
    "the",
    "a",
    "and",
    "to",
    "of",
    "in",
    "my",
    "me",
    "it",
    "that",
    "like",
    "really",
    "but",
    "so",
    "just",
];

/// Size of the long-tailed vocabulary.
const VOCABULARY: u64 = 50_000;
const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ne", "ru", "ta", "ve", "si", "bo", "da", "fu", "ge", "hi", "jo", "pa", "zu",
];

/// The made-up word of a rank: its base-16 digits as syllables.
fn vocabulary_word(mut rank: u64) -> String {
    let mut w = String::new();
    loop {
        w.push_str(SYLLABLES[(rank % 16) as usize]);
        rank /= 16;
        if rank == 0 {
            break;
        }
    }
    w.push('n');
    w
}

/// A word of quote text: an everyday word, or a word of the long tail with a rank
/// drawn log-uniformly (roughly Zipf's law: rank 1 is ten times as common as rank 10).
fn text_word(rng: &mut Rng) -> String {
    if rng.below(100) < 55 {
        return WORDS[rng.below(WORDS.len() as u64) as usize].to_string();
    }
    let u = rng.below(1 << 20) as f64 / (1u64 << 20) as f64;
    let rank = ((VOCABULARY as f64).powf(u) as u64).saturating_sub(1);
    vocabulary_word(rank)
}

/// Sites below 100,000 quotes; a study that large is a multi-country synthesis.
pub const SITES: usize = 6;
/// Sites at 100,000 quotes and more.
pub const SITES_AT_100K: usize = 50;

/// The number of sites of a study of `n` quotes.
pub fn sites_for(n: usize) -> usize {
    if n >= 100_000 { SITES_AT_100K } else { SITES }
}
pub const GROUPS: usize = 3;
pub const THEMES: usize = 8;
pub const SUBTHEMES: usize = 4;
pub const PARTICIPANTS_PER_SITE: usize = 50;

/// The file a quote is written to, and the quote's id, for quote number `i` of `n`.
pub fn quote_location(i: usize, n: usize) -> (String, String) {
    let sites = sites_for(n);
    let site = i % sites;
    let participant = (i / sites) % PARTICIPANTS_PER_SITE;
    (
        format!("content/quotes/site-{site}/p-{participant:03}.yaml"),
        format!("q-{i}"),
    )
}

/// Writes the synthetic study with `n` quotes into `dir` (which is replaced).
pub fn write_study(dir: &Path, n: usize, seed: u64) {
    let _ = fs::remove_dir_all(dir);
    let c = dir.join("content");
    for d in ["themes", "sites", "groups", "findings", "quotes"] {
        fs::create_dir_all(c.join(d)).unwrap();
    }
    fs::write(
        c.join("study.yaml"),
        format!("title: Synthetic study of {n} quotes\nnotice: Generated text for benchmarks, not participant data.\n"),
    )
    .unwrap();
    for t in 0..THEMES {
        fs::write(
            c.join(format!("themes/t{t}.md")),
            format!("---\ntitle: Theme {t}\norder: {t}\nsummary: Synthetic theme {t}.\n---\nTheme {t} covers [its first subtheme](theme:t{t}-s0).\n"),
        )
        .unwrap();
        for s in 0..SUBTHEMES {
            fs::write(
                c.join(format!("themes/t{t}-s{s}.md")),
                format!("---\ntitle: Subtheme {t}.{s}\nparent: t{t}\norder: {s}\n---\nSubtheme {s} of [theme {t}](theme:t{t}).\n"),
            )
            .unwrap();
        }
    }
    for s in 0..sites_for(n) {
        fs::create_dir_all(c.join(format!("quotes/site-{s}"))).unwrap();
        fs::write(
            c.join(format!("sites/site-{s}.md")),
            format!("---\ntitle: Site {s}\norder: {s}\ncountry: Country {s}\nparticipants: {PARTICIPANTS_PER_SITE}\n---\nAbout site {s}.\n"),
        )
        .unwrap();
    }
    for g in 0..GROUPS {
        fs::write(
            c.join(format!("groups/g{g}.md")),
            format!("---\ntitle: Group {g}\norder: {g}\n---\nGroup {g}.\n"),
        )
        .unwrap();
    }
    let mut rng = Rng::new(seed);
    let mut files: std::collections::BTreeMap<String, String> = Default::default();
    for i in 0..n {
        let (file, id) = quote_location(i, n);
        let sites = sites_for(n);
        let site = i % sites;
        let participant = (i / sites) % PARTICIPANTS_PER_SITE;
        let words = 40 + rng.below(81) as usize;
        let mut text = String::new();
        for w in 0..words {
            if w > 0 {
                text.push(' ');
            }
            text.push_str(&text_word(&mut rng));
        }
        let k = 1 + rng.below(3) as usize;
        let mut themes: Vec<String> = Vec::new();
        while themes.len() < k {
            let t = format!(
                "t{}-s{}",
                rng.below(THEMES as u64),
                rng.below(SUBTHEMES as u64)
            );
            if !themes.contains(&t) {
                themes.push(t);
            }
        }
        let body = files.entry(file).or_insert_with(|| format!("defaults:\n  site: site-{site}\n  participant: P{site}-{participant:03}\n  group: g{}\nquotes:\n", participant % GROUPS));
        let _ = write!(
            body,
            "  - id: {id}\n    themes: [{}]\n    text: >-\n      {text}\n",
            themes.join(", ")
        );
    }
    for (file, body) in files {
        fs::write(dir.join(file), body).unwrap();
    }
    for f in 0..20 {
        let t = f % THEMES;
        let q = (f * 37) % n.max(1);
        let next = (f + 1) % 20;
        fs::write(
            c.join(format!("findings/f{f:02}.md")),
            format!(
                "---\ntitle: Finding {f}\norder: {f}\n---\n## What we found\n\nParticipants at [site 1](site:site-1) spoke about [theme {t}](theme:t{t}), \
                 especially [at site 0](theme:t{t}/site:site-0). See also [the next finding](finding:f{next:02}).\n\n![](quote:q-{q})\n\nMore in [group 0](group:g0).\n"
            ),
        )
        .unwrap();
    }
}

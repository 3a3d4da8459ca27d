//! Words and their folded forms: the rules the index is built with. The reader's
//! browser applies the same rules to the query (`fold` in
//! `themes/default/static/search.js`), so the two must change together.
//!
//! A word is a run of letters, numbers and combining marks. Folding lowercases it,
//! decomposes it (NFKD) and drops the combining marks, so "Ônibus" and "onibus",
//! "müde" and "mude", and Hebrew with or without niqqud meet. A few letters that do
//! not decompose are spelled out (ß as ss, æ as ae, ø as o). German umlauts have a
//! second spelling with `e` (ü as ue), which readers type on keyboards without
//! them: words with umlauts are indexed under both.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// True for the characters that make up a word.
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

/// The words of `text`, as written.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    Words { text, pos: 0 }.map(|(word, _)| word)
}

/// What a word is made of, as far as folding it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordKind {
    /// Lowercase ASCII letters and digits: the word is its own folded form.
    Folded,
    /// ASCII letters and digits, some uppercase: folding lowercases them.
    AsciiUpper,
    /// Some characters beyond ASCII: see [`fold`] and [`index_forms`].
    Unicode,
}

/// The words of `text`, as written, with what they are made of.
pub fn words_with_kind(text: &str) -> impl Iterator<Item = (&str, WordKind)> {
    Words { text, pos: 0 }
}

/// How [`Words`] sees a byte.
const SEPARATOR: u8 = 0;
const LOWER: u8 = 1;
const UPPER: u8 = 2;
const NON_ASCII: u8 = 4;

/// The class of every byte: an ASCII character is a word character exactly when
/// it is an ASCII letter or digit; bytes of other characters need decoding.
const CLASS: [u8; 256] = {
    let mut t = [NON_ASCII; 256];
    let mut b = 0;
    while b < 128 {
        t[b] = match b as u8 {
            b'a'..=b'z' | b'0'..=b'9' => LOWER,
            b'A'..=b'Z' => UPPER,
            _ => SEPARATOR,
        };
        b += 1;
    }
    t
};

const HIGH: u64 = 0x8080_8080_8080_8080;
const ONES: u64 = 0x0101_0101_0101_0101;

/// For eight ASCII bytes (all below 0x80), the high bit of each byte that is in
/// `lo..=hi` (no byte's sum carries into the next).
#[inline]
fn ascii_in(x: u64, lo: u8, hi: u8) -> u64 {
    let at_least_lo = x + ONES * (0x80 - lo as u64);
    let above_hi = x + ONES * (0x7f - hi as u64);
    at_least_lo & !above_hi & HIGH
}

/// The words of a text, found byte by byte: ASCII bytes are classified by a table,
/// other characters are decoded and asked [`is_word_char`].
struct Words<'a> {
    text: &'a str,
    pos: usize,
}

impl Words<'_> {
    /// The end of the non-ASCII character starting at byte `i`, if it is a word
    /// character.
    #[inline(never)]
    fn non_ascii_word_char_end(&self, i: usize) -> Option<usize> {
        let c = self.text[i..].chars().next()?;
        is_word_char(c).then_some(i + c.len_utf8())
    }
}

impl<'a> Iterator for Words<'a> {
    type Item = (&'a str, WordKind);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let bytes = self.text.as_bytes();
        let mut i = self.pos;
        // Skip to the first word character.
        let (start, mut seen) = loop {
            let Some(&b) = bytes.get(i) else {
                self.pos = i;
                return None;
            };
            match CLASS[b as usize] {
                SEPARATOR => i += 1,
                NON_ASCII => match self.non_ascii_word_char_end(i) {
                    Some(end) => {
                        let start = i;
                        i = end;
                        break (start, NON_ASCII);
                    }
                    None => i += utf8_len(b),
                },
                class => {
                    let start = i;
                    i += 1;
                    break (start, class);
                }
            }
        };
        // Then to the end of the word: eight ASCII bytes at a time, else one by one.
        loop {
            if let Some(chunk) = bytes.get(i..i + 8) {
                let x = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
                if x & HIGH == 0 {
                    let upper = ascii_in(x, b'A', b'Z');
                    let word = upper | ascii_in(x, b'a', b'z') | ascii_in(x, b'0', b'9');
                    let stop = !word & HIGH;
                    if stop == 0 {
                        seen |= if upper != 0 { UPPER } else { LOWER };
                        i += 8;
                        continue;
                    }
                    // The bytes before the first that is not a word character.
                    let n = stop.trailing_zeros() as usize / 8;
                    if upper & ((1 << (8 * n)) - 1) != 0 {
                        seen |= UPPER;
                    }
                    i += n;
                    break;
                }
            }
            let Some(&b) = bytes.get(i) else { break };
            match CLASS[b as usize] {
                SEPARATOR => break,
                NON_ASCII => match self.non_ascii_word_char_end(i) {
                    Some(end) => {
                        i = end;
                        seen |= NON_ASCII;
                    }
                    None => break,
                },
                class => {
                    i += 1;
                    seen |= class;
                }
            }
        }
        self.pos = i;
        let kind = if seen & NON_ASCII != 0 {
            WordKind::Unicode
        } else if seen & UPPER != 0 {
            WordKind::AsciiUpper
        } else {
            WordKind::Folded
        };
        Some((&self.text[start..i], kind))
    }
}

/// The length of the UTF-8 sequence that starts with `first`.
fn utf8_len(first: u8) -> usize {
    match first {
        0xF0.. => 4,
        0xE0.. => 3,
        _ => 2,
    }
}

/// The folded form of one word: lowercase, without diacritics.
pub fn fold(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    if word.is_ascii() {
        out.extend(word.chars().map(|c| c.to_ascii_lowercase()));
        return out;
    }
    for c in word.chars().flat_map(char::to_lowercase).nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        match c {
            'ß' => out.push_str("ss"),
            'æ' => out.push_str("ae"),
            'œ' => out.push_str("oe"),
            'ø' => out.push('o'),
            'ł' => out.push('l'),
            'đ' | 'ð' => out.push('d'),
            'þ' => out.push_str("th"),
            'ı' => out.push('i'),
            _ => out.push(c),
        }
    }
    out
}

/// The forms a word is indexed under: its folded form, and for words with German
/// umlauts also the spelling with `e` (müde: "mude" and "muede").
pub fn index_forms(word: &str) -> (String, Option<String>) {
    let folded = fold(word);
    if word.is_ascii() {
        return (folded, None);
    }
    let lower: String = word.chars().flat_map(char::to_lowercase).nfc().collect();
    if !lower.contains(['ä', 'ö', 'ü']) {
        return (folded, None);
    }
    let spelled = lower
        .replace('ä', "ae")
        .replace('ö', "oe")
        .replace('ü', "ue");
    let spelled = fold(&spelled);
    if spelled == folded {
        (folded, None)
    } else {
        (folded, Some(spelled))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_drops_case_and_diacritics() {
        assert_eq!(fold("Ônibus"), "onibus");
        assert_eq!(fold("MÜDE"), "mude");
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold("Ærø"), "aero");
        assert_eq!(fold("bus"), "bus");
        // Hebrew niqqud and Arabic harakat are marks: the bare letters remain.
        assert_eq!(fold("שָׁלוֹם"), "שלום");
        assert_eq!(fold("مَرْحَبًا"), "مرحبا");
    }

    #[test]
    fn umlauts_are_indexed_under_both_spellings() {
        assert_eq!(
            index_forms("Müde"),
            ("mude".to_string(), Some("muede".to_string()))
        );
        assert_eq!(index_forms("ônibus"), ("onibus".to_string(), None));
        assert_eq!(index_forms("bus"), ("bus".to_string(), None));
    }

    #[test]
    fn words_tell_what_they_are_made_of() {
        let w: Vec<(&str, WordKind)> = words_with_kind("bus Bus2 ônibus e\u{301} 7").collect();
        assert_eq!(
            w,
            [
                ("bus", WordKind::Folded),
                ("Bus2", WordKind::AsciiUpper),
                ("ônibus", WordKind::Unicode),
                ("e\u{301}", WordKind::Unicode),
                ("7", WordKind::Folded)
            ]
        );
    }

    #[test]
    fn words_are_those_of_splitting_at_each_character() {
        let pieces = [
            "a",
            "Z",
            "0",
            "9",
            "q",
            " ",
            ",",
            "-",
            "@",
            "[",
            "`",
            "{",
            "/",
            ":",
            "\n",
            "\u{7f}",
            "ô",
            "\u{301}",
            "ß",
            "中",
            "🙂",
            "\u{a0}",
            "—",
            "½",
            "İ",
            "abcdefgh",
            "ABCDEFGHIJ",
        ];
        let mut seed = 7u64;
        for _ in 0..2000 {
            let mut text = String::new();
            for _ in 0..(seed % 40) {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                text.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            let expected: Vec<(&str, WordKind)> = text
                .split(|c: char| !is_word_char(c))
                .filter(|w| !w.is_empty())
                .map(|w| {
                    let kind = if !w.is_ascii() {
                        WordKind::Unicode
                    } else if w.bytes().any(|b| b.is_ascii_uppercase()) {
                        WordKind::AsciiUpper
                    } else {
                        WordKind::Folded
                    };
                    (w, kind)
                })
                .collect();
            let found: Vec<(&str, WordKind)> = words_with_kind(&text).collect();
            assert_eq!(found, expected, "{text:?}");
        }
    }

    #[test]
    fn words_split_at_anything_but_letters_numbers_and_marks() {
        let w: Vec<&str> = words("It's the bus-stop, 2 km; हिन्दी (Hindi) שָׁלוֹם!").collect();
        assert_eq!(
            w,
            [
                "It",
                "s",
                "the",
                "bus",
                "stop",
                "2",
                "km",
                "हिन्दी",
                "Hindi",
                "שָׁלוֹם"
            ]
        );
    }
}

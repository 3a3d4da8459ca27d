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
        // Then to the end of the word.
        while let Some(&b) = bytes.get(i) {
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

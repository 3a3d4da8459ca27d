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
    text.split(|c: char| !is_word_char(c))
        .filter(|w| !w.is_empty())
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

//! Selection positions: cutting a source's text by `startPosition`/`endPosition`.
//!
//! The standard counts Unicode code points from 0, end excluded. Two tools count
//! otherwise (NOTES.md): ATLAS.ti counts a CRLF as one position, and QualCoder
//! counts UTF-16 code units. Rust slices by byte, so positions go through an
//! index of checkpoints rather than raw integers.

/// How a tool counts positions in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counting {
    /// Unicode code points (the standard).
    CodePoints,
    /// Code points, with CRLF counted as one (ATLAS.ti).
    CrlfAsOne,
    /// UTF-16 code units (QualCoder).
    Utf16,
}

impl Counting {
    /// The unit: "code points" for messages.
    pub fn unit(self) -> &'static str {
        match self {
            Counting::CodePoints => "code points",
            Counting::CrlfAsOne => "code points (CRLF counted as one)",
            Counting::Utf16 => "UTF-16 code units",
        }
    }

    /// Whether this counting differs from code points anywhere in `text`.
    pub fn matters_for(self, text: &str) -> bool {
        match self {
            Counting::CodePoints => true,
            Counting::CrlfAsOne => text.contains("\r\n"),
            Counting::Utf16 => text.chars().any(|c| c.len_utf16() == 2),
        }
    }
}

/// One checkpoint every this many characters.
const STRIDE: usize = 64;

/// A text with an index from positions to byte offsets.
#[derive(Debug)]
pub(crate) struct Indexed<'a> {
    text: &'a str,
    counting: Counting,
    /// `(position, byte offset)` of every STRIDE-th character.
    checkpoints: Vec<(u64, usize)>,
    len: u64,
}

/// How many positions `c` takes, given the character after it.
fn width(counting: Counting, c: char, next: Option<char>) -> u64 {
    match counting {
        Counting::CodePoints => 1,
        Counting::CrlfAsOne if c == '\r' && next == Some('\n') => 0,
        Counting::CrlfAsOne => 1,
        Counting::Utf16 => c.len_utf16() as u64,
    }
}

impl<'a> Indexed<'a> {
    /// Indexes `text` (a BOM already stripped).
    pub fn new(text: &'a str, counting: Counting) -> Self {
        let mut checkpoints = Vec::with_capacity(text.len() / STRIDE + 1);
        let mut pos = 0u64;
        let mut chars = text.char_indices().peekable();
        let mut n = 0usize;
        while let Some((byte, c)) = chars.next() {
            if n % STRIDE == 0 {
                checkpoints.push((pos, byte));
            }
            n += 1;
            pos += width(counting, c, chars.peek().map(|&(_, c)| c));
        }
        Indexed {
            text,
            counting,
            checkpoints,
            len: pos,
        }
    }

    /// The text's length in positions.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// The byte offset of a position: the first character boundary at or after
    /// it. `None` past the end.
    fn byte_at(&self, target: u64) -> Option<usize> {
        if target > self.len {
            return None;
        }
        let i = self.checkpoints.partition_point(|&(p, _)| p <= target);
        let (mut pos, start) = match i.checked_sub(1) {
            Some(i) => self.checkpoints[i],
            None => return Some(0),
        };
        let rest = &self.text[start..];
        let mut chars = rest.char_indices().peekable();
        while let Some((byte, c)) = chars.next() {
            if pos >= target {
                return Some(start + byte);
            }
            pos += width(self.counting, c, chars.peek().map(|&(_, c)| c));
        }
        Some(self.text.len())
    }

    /// The text from `start` to `end` (end excluded), or `None` when the range is
    /// backwards or goes past the end.
    pub fn slice(&self, start: u64, end: u64) -> Option<&'a str> {
        if start > end {
            return None;
        }
        let (a, b) = (self.byte_at(start)?, self.byte_at(end)?);
        self.text.get(a..b.max(a))
    }
}

/// Whether a selection's `name` looks like the start of its text (many tools
/// write the selected text, or its start followed by an ellipsis, as the name).
/// Names shorter than 4 characters, once cut, say nothing.
pub(crate) fn name_matches(name: &str, cut: &str) -> bool {
    let name = name.trim();
    let name = name
        .strip_suffix('…')
        .or_else(|| name.strip_suffix("..."))
        .unwrap_or(name);
    let name: Vec<&str> = name.split_whitespace().collect();
    if name.concat().chars().count() < 4 {
        return false;
    }
    let cut: Vec<&str> = cut.split_whitespace().collect();
    let (name, cut) = (name.join(" "), cut.join(" "));
    // The last word of a shortened name may be cut mid-word.
    cut.starts_with(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_points_not_bytes() {
        let text = "Grüße, 😀 שלום!";
        let ix = Indexed::new(text, Counting::CodePoints);
        assert_eq!(ix.len(), text.chars().count() as u64);
        assert_eq!(ix.slice(0, 5), Some("Grüße"));
        assert_eq!(ix.slice(7, 8), Some("😀"));
        assert_eq!(ix.slice(9, 13), Some("שלום"));
        assert_eq!(ix.slice(14, 14), Some(""));
        assert_eq!(ix.slice(0, ix.len()), Some(text));
        assert_eq!(ix.slice(3, 2), None);
        assert_eq!(ix.slice(0, ix.len() + 1), None);
    }

    #[test]
    fn long_texts_use_checkpoints() {
        let text: String = (0..1000)
            .map(|i| if i % 7 == 0 { 'ä' } else { 'a' })
            .collect();
        let ix = Indexed::new(&text, Counting::CodePoints);
        for (s, e) in [(0, 1), (63, 65), (64, 128), (500, 999), (999, 1000)] {
            let expected: String = text.chars().skip(s).take(e - s).collect();
            assert_eq!(ix.slice(s as u64, e as u64), Some(expected.as_str()));
        }
    }

    #[test]
    fn crlf_as_one_and_utf16() {
        let text = "ab\r\ncd";
        let ix = Indexed::new(text, Counting::CrlfAsOne);
        assert_eq!(ix.len(), 5);
        assert_eq!(ix.slice(3, 5), Some("cd"));
        assert_eq!(ix.slice(0, 2), Some("ab"));
        assert_eq!(ix.slice(2, 3), Some("\r\n"));
        let text = "😀 hi";
        let ix = Indexed::new(text, Counting::Utf16);
        assert_eq!(ix.len(), 5);
        assert_eq!(ix.slice(3, 5), Some("hi"));
        assert!(Counting::Utf16.matters_for(text));
        assert!(!Counting::CrlfAsOne.matters_for(text));
    }

    #[test]
    fn names() {
        assert!(name_matches("Ich  habe…", "Ich habe gesagt"));
        assert!(name_matches("Ich habe gesagt", " Ich habe gesagt "));
        assert!(!name_matches("line:6", "Ich habe"));
        assert!(!name_matches("a", "a"));
    }
}

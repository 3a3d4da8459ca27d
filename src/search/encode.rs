//! Compact text encodings of posting lists (sorted document numbers), read back by
//! `decode` in `themes/default/static/search.js`.
//!
//! Two forms, whichever is shorter:
//! - gaps: each gap to the previous number (minus one) as a little-endian varint of
//!   5-bit groups, one character per group, the sixth bit saying "more follows";
//! - bitmap: `!` then six documents per character; rare words take the first form,
//!   words in most documents the second (100,000 documents in 16.7 kB).
//!
//! Both use the 64 characters below, which need no escaping in a JSON string.

const ALPHABET: &[u8; 64] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";

/// `docs` (sorted, distinct) in the shorter of the two forms ([`form`], [`write`]).
#[cfg(test)]
fn postings(docs: &[u32]) -> String {
    let form = form(docs);
    let mut out = Vec::with_capacity(form.len);
    write(docs, form, &mut out);
    // Every byte is from ALPHABET (or `!`): ASCII.
    String::from_utf8(out).unwrap_or_default()
}

/// Which of the two forms a list is written in (the shorter), and its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Form {
    /// Length in bytes (characters).
    pub len: usize,
    bitmap: bool,
}

/// The form `docs` (sorted, distinct) is written in, without writing it.
pub fn form(docs: &[u32]) -> Form {
    let gaps = gaps_len(docs);
    match docs.last() {
        Some(&last) if bitmap_len(last) < gaps => Form {
            len: bitmap_len(last),
            bitmap: true,
        },
        _ => Form {
            len: gaps,
            bitmap: false,
        },
    }
}

/// Appends `docs` in its [`form`] to `out`.
pub fn write(docs: &[u32], form: Form, out: &mut Vec<u8>) {
    out.reserve(form.len);
    match docs.last() {
        Some(&last) if form.bitmap => bitmap(docs, last, out),
        _ => gaps(docs, out),
    }
}

/// The length of the bitmap form of a list ending at `last`.
fn bitmap_len(last: u32) -> usize {
    last as usize / 6 + 2
}

/// The length of the gaps form of `docs`: one character per 5 bits of each gap.
fn gaps_len(docs: &[u32]) -> usize {
    let mut prev: Option<u32> = None;
    let mut len = 0;
    for &d in docs {
        let gap = match prev {
            None => d,
            Some(p) => d - p - 1,
        };
        prev = Some(d);
        len += ((32 - gap.leading_zeros()) as usize).div_ceil(5).max(1);
    }
    len
}

fn gaps(docs: &[u32], out: &mut Vec<u8>) {
    let mut prev: Option<u32> = None;
    for &d in docs {
        let mut gap = match prev {
            None => d,
            Some(p) => d - p - 1,
        };
        prev = Some(d);
        loop {
            let group = gap & 31;
            gap >>= 5;
            let more = if gap > 0 { 32 } else { 0 };
            out.push(ALPHABET[(group | more) as usize]);
            if gap == 0 {
                break;
            }
        }
    }
}

fn bitmap(docs: &[u32], last: u32, out: &mut Vec<u8>) {
    let mut bits = vec![0u8; last as usize / 6 + 1];
    for &d in docs {
        bits[d as usize / 6] |= 1 << (d % 6);
    }
    out.reserve(bits.len() + 1);
    out.push(b'!');
    out.extend(bits.iter().map(|&b| ALPHABET[b as usize]));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The decoder, as search.js implements it.
    fn decode(s: &str) -> Vec<u32> {
        let value = |c: char| ALPHABET.iter().position(|&a| a as char == c).unwrap() as u32;
        let mut out = Vec::new();
        if let Some(rest) = s.strip_prefix('!') {
            for (i, c) in rest.chars().enumerate() {
                let v = value(c);
                for bit in 0..6 {
                    if v & (1 << bit) != 0 {
                        out.push(i as u32 * 6 + bit);
                    }
                }
            }
            return out;
        }
        let (mut cur, mut shift, mut prev): (u32, u32, Option<u32>) = (0, 0, None);
        for c in s.chars() {
            let v = value(c);
            cur |= (v & 31) << shift;
            shift += 5;
            if v & 32 == 0 {
                let d = prev.map_or(cur, |p| p + cur + 1);
                out.push(d);
                prev = Some(d);
                cur = 0;
                shift = 0;
            }
        }
        out
    }

    #[test]
    fn sparse_lists_are_gaps_and_round_trip() {
        let docs = [0, 1, 2, 40, 1000, 99_999];
        let s = postings(&docs);
        assert!(!s.starts_with('!'));
        assert_eq!(decode(&s), docs);
        assert_eq!(postings(&[5]), "5");
        assert_eq!(postings(&[5, 40]), "5Y1");
        assert_eq!(postings(&[]), "");
    }

    #[test]
    fn lengths_are_the_lengths_written() {
        let lists: [&[u32]; 7] = [
            &[],
            &[0],
            &[31, 32, 1100, 1_000_000],
            &[0, 1, 2, 3, 4, 5, 6, 7],
            &[5, 40],
            &[0, 33_554_432, u32::MAX],
            &[0, 6, 12, 18, 24],
        ];
        for docs in lists {
            assert_eq!(form(docs).len, postings(docs).len(), "{docs:?}");
        }
        let dense: Vec<u32> = (0..600).filter(|d| d % 3 != 0).collect();
        assert_eq!(form(&dense).len, postings(&dense).len());
        assert!(form(&dense).bitmap);
    }

    #[test]
    fn dense_lists_are_bitmaps_and_round_trip() {
        let docs: Vec<u32> = (0..600).filter(|d| d % 3 != 0).collect();
        let s = postings(&docs);
        assert!(s.starts_with('!'), "{s}");
        assert_eq!(s.len(), 101);
        assert_eq!(decode(&s), docs);
    }
}

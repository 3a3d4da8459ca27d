//! JSON strings written by hand, escaped exactly as serde_json escapes them.
//!
//! The search index and the open data write hundreds of thousands of strings;
//! going through serde for each costs more than the rest of their writing. Both
//! write with these functions, and the tests check them against serde_json.

/// Appends `s` as a JSON string, escaped as serde_json escapes it.
pub(crate) fn json_string(out: &mut Vec<u8>, s: &str) {
    write_json_string(out, s, false);
}

/// Appends `s` as a JSON string in a script: escaped as serde_json escapes it, and
/// with every `</` written `<\/`, which a script element cannot end at. Returns the
/// number of `\` added for `</`.
///
/// JSON escaping adds no `<` or `/`, and outside its strings a JSON text of strings,
/// numbers, `true`, `false` and `null` has neither: escaping `</` in every string
/// of a JSON text escapes every `</` of it.
pub(crate) fn script_json_string(out: &mut Vec<u8>, s: &str) -> usize {
    write_json_string(out, s, true)
}

/// The escape of each byte in a JSON string, as serde_json writes it: 0 for none,
/// `u` for `\u00XX`, else the character after the `\`.
const JSON_ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = b'u';
        b += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

/// Whether any of the 8 bytes of `x` needs a look: below 0x20, `"`, `\`, or (in a
/// script) `<`. May say yes for bytes that do not; never no for one that does.
#[inline]
fn any_special(x: u64, script: bool) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let control = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
    let quote = zero(x ^ (ONES * b'"' as u64));
    let backslash = zero(x ^ (ONES * b'\\' as u64));
    let lt = if script {
        zero(x ^ (ONES * b'<' as u64))
    } else {
        0
    };
    control | quote | backslash | lt != 0
}

fn write_json_string(out: &mut Vec<u8>, s: &str, script: bool) -> usize {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut added = 0;
    // Bytes from `run` on are not written yet; they need no escape.
    let mut run = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Eight bytes at a time while none needs a look.
        if let Some(chunk) = bytes.get(i..i + 8) {
            let x = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
            if !any_special(x, script) {
                i += 8;
                continue;
            }
        }
        let b = bytes[i];
        match JSON_ESCAPE[b as usize] {
            0 if script && b == b'<' && bytes.get(i + 1) == Some(&b'/') => {
                out.extend_from_slice(&bytes[run..=i]);
                out.push(b'\\');
                added += 1;
                run = i + 1;
            }
            0 => {}
            b'u' => {
                out.extend_from_slice(&bytes[run..i]);
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 0xf) as usize]);
                run = i + 1;
            }
            e => {
                out.extend_from_slice(&bytes[run..i]);
                out.push(b'\\');
                out.push(e);
                run = i + 1;
            }
        }
        i += 1;
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
    added
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped_as_serde_json_escapes_them() {
        let mut samples: Vec<String> = (0u8..128)
            .map(|b| format!("ab{}cdefghij", b as char))
            .collect();
        samples.extend((0u8..128).map(|b| (b as char).to_string()));
        // Each character at places inside and across the eight-byte steps, and
        // `</` split by them.
        for b in 0u8..128 {
            for at in [0, 7, 8, 31, 32, 33, 63, 64, 69] {
                let mut t = "x".repeat(70);
                t.replace_range(at..=at, &(b as char).to_string());
                samples.push(t);
            }
        }
        for at in [6, 7, 30, 31, 32, 62, 63] {
            let mut t = "y".repeat(70);
            t.replace_range(at..at + 2, "</");
            samples.push(t);
        }
        samples.extend(
            [
                "",
                "plain text, long enough for eight bytes at a time",
                "\"quoted\" and \\ back\\slashed\\",
                "tab\there\nnew line\r\u{8}\u{c}\u{1f}\u{7f}",
                "Ônibus שָׁלוֹם 中文 🙂 </script> <b>",
                "a</b></</",
            ]
            .map(String::from),
        );
        for s in &samples {
            let expected = serde_json::to_string(s).unwrap();
            let mut out = Vec::new();
            json_string(&mut out, s);
            assert_eq!(String::from_utf8(out).unwrap(), expected, "{s:?}");
            let mut out = Vec::new();
            let added = script_json_string(&mut out, s);
            let script = expected.replace("</", "<\\/");
            assert_eq!(added, script.len() - expected.len());
            assert_eq!(String::from_utf8(out).unwrap(), script, "{s:?}");
        }
    }
}

//! Quoting untrusted values in dead-letter reasons and logs.
//!
//! Whatever a shop or a carrier sends may be huge, may carry control characters
//! (a forged log line) and may be personal data typed into the wrong field. So a
//! reason or a log line shows at most a short prefix of such a value, with control
//! and bidi-formatting characters removed, and nothing at all of a value that looks
//! like contact details: anything with an `@` (an email address), digits shaped
//! like a phone number (a `+` in front, or separators between at least 7 digits),
//! or several words of letters (a name, or free text). Plain identifiers, codes and
//! tracking numbers show as their prefix. The heuristics cannot recognise a single
//! first name; that is why only fields meant to hold codes are ever quoted, never
//! free text.

use std::fmt;

/// The most characters of an untrusted value a reason or log line shows.
pub const QUOTED_CHARS: usize = 24;
/// The most characters a dead-letter reason has.
pub const MAX_REASON_CHARS: usize = 400;

/// An untrusted value, displayed safely: `` `1Z999AA1…` (40 bytes) ``.
pub struct Quoted<'a>(&'a str);

/// Wraps `value` for display in a reason or a log line.
pub fn quote(value: &str) -> Quoted<'_> {
    Quoted(value)
}

/// [`quote`] for raw bytes, such as a record key.
pub fn quote_bytes(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => quote(text).to_string(),
        Err(_) => format!("({} bytes, not UTF-8)", bytes.len()),
    }
}

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = self.0;
        if value.is_empty() {
            return f.write_str("``");
        }
        if let Some(looks_like) = contact_like(value) {
            return write!(f, "(redacted: {looks_like}, {} bytes)", value.len());
        }
        let mut shown = String::new();
        let mut cut = false;
        for (n, c) in value.chars().filter(|c| !unsafe_char(*c)).enumerate() {
            if n == QUOTED_CHARS {
                cut = true;
                break;
            }
            shown.push(if c == '`' { '\'' } else { c });
        }
        let dropped = shown.chars().count() < value.chars().count();
        if cut || dropped {
            write!(f, "`{shown}…` ({} bytes)", value.len())
        } else {
            write!(f, "`{shown}`")
        }
    }
}

/// A reason as it goes into a dead letter: control characters become spaces and it
/// is cut at [`MAX_REASON_CHARS`].
pub fn bounded(reason: &str) -> String {
    let mut out: String = reason
        .chars()
        .take(MAX_REASON_CHARS)
        .map(|c| if unsafe_char(c) { ' ' } else { c })
        .collect();
    if reason.chars().nth(MAX_REASON_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// Control characters, and the formatting characters that reorder or hide text.
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// What a value looks like, if it might be contact details.
fn contact_like(value: &str) -> Option<&'static str> {
    if value.contains('@') {
        return Some("looks like an email address");
    }
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let phone_chars = value
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '(' | ')' | '.' | ' ' | '/'));
    let separated =
        value.trim_start().starts_with('+') || value.chars().any(|c| !c.is_ascii_digit());
    if phone_chars && separated && digits >= 7 {
        return Some("looks like a phone number");
    }
    let words = value
        .split_whitespace()
        .filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 2)
        .count();
    if words >= 2 {
        return Some("several words");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_show_whole_and_long_values_as_a_prefix() {
        assert_eq!(
            quote("1Z999AA10123456784").to_string(),
            "`1Z999AA10123456784`"
        );
        assert_eq!(quote("o-1001").to_string(), "`o-1001`");
        let long = "x".repeat(10_000);
        let shown = quote(&long).to_string();
        assert_eq!(
            shown,
            format!("`{}…` (10000 bytes)", "x".repeat(QUOTED_CHARS))
        );
        // A plain number is an id (order numbers are), not a phone number.
        assert_eq!(quote("4155550123").to_string(), "`4155550123`");
    }

    #[test]
    fn control_and_bidi_characters_are_removed() {
        let shown = quote("ab\u{7}cd\u{1b}[31m\u{202e}ef").to_string();
        assert_eq!(shown, "`abcd[31mef…` (15 bytes)");
        // A line break between words is still words.
        assert!(quote("Janet\nPiiwhistle")
            .to_string()
            .starts_with("(redacted"));
        assert!(!shown.chars().any(unsafe_char));
        assert_eq!(quote("a`b").to_string(), "`a'b`");
    }

    #[test]
    fn contact_details_are_never_shown() {
        for (value, needle) in [
            ("janet.piiwhistle@example.com", "piiwhistle"),
            ("+1 555 0100 4242", "555"),
            ("+447700900123", "7700"),
            ("(555) 010-0424", "010"),
            ("Janet Piiwhistle", "Janet"),
            ("Left with Janet by the door", "Janet"),
        ] {
            let shown = quote(value).to_string();
            assert!(!shown.contains(needle), "{value} shown as {shown}");
            assert!(shown.starts_with("(redacted: "), "{shown}");
        }
    }

    #[test]
    fn bytes_that_are_not_text_are_described() {
        assert_eq!(quote_bytes(b"T1"), "`T1`");
        assert_eq!(quote_bytes(&[0xff, 0xfe]), "(2 bytes, not UTF-8)");
    }

    #[test]
    fn reasons_are_bounded_and_single_line() {
        let reason = format!("first\nsecond {}", "y".repeat(1000));
        let b = bounded(&reason);
        assert!(!b.contains('\n'));
        assert_eq!(b.chars().count(), MAX_REASON_CHARS + 1);
        assert_eq!(bounded("short"), "short");
    }
}

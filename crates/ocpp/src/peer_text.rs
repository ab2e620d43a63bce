//! Peer-supplied text, made safe to log.
//!
//! Anything a station (or a stranger) sends may end up in a log line or in an error text that is
//! logged: a station id, an action name, a message id, a schema failure that quotes the offending
//! value. Logged as is, one connection wrote 97 MB of log in 2.4 s, and a CR/LF in a station id
//! forged a complete log line. [`Bounded`] prints at most [`MAX_CHARS`] characters with control
//! characters escaped, and says how much it left out, so a log line is bounded by the code that
//! writes it, never by the peer.

use std::fmt;

/// Characters of peer text shown before the rest is summarised as `…(+N bytes)`.
pub const MAX_CHARS: usize = 120;

/// Displays peer-supplied text bounded to [`MAX_CHARS`] characters, control characters escaped
/// (`\n`, `\u{1b}`, …) and the rest summarised as `…(+N bytes)`.
#[derive(Debug, Clone, Copy)]
pub struct Bounded<'a>(pub &'a str);

impl fmt::Display for Bounded<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (shown, (at, c)) in self.0.char_indices().enumerate() {
            if shown == MAX_CHARS {
                return write!(f, "…(+{} bytes)", self.0.len() - at);
            }
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                fmt::Write::write_char(f, c)?;
            }
        }
        Ok(())
    }
}

/// [`Bounded`] as an owned string, for error texts built from peer data.
pub fn bounded(text: &str) -> String {
    Bounded(text).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn short_printable_text_is_shown_as_is() {
        assert_eq!(bounded("CP-001 Heartbeat é"), "CP-001 Heartbeat é");
    }

    #[test]
    fn control_characters_are_escaped_so_no_line_can_be_forged() {
        let forged = "CP1\r\n2024-01-01T00:00:00Z  INFO station connected\x1b[0m";
        let shown = bounded(forged);
        assert!(!shown.contains(['\r', '\n', '\x1b']), "{shown}");
        assert!(shown.starts_with(r"CP1\r\n2024"), "{shown}");
    }

    #[test]
    fn long_text_is_cut_and_says_how_much_was_left_out() {
        let shown = bounded(&"x".repeat(1_000_000));
        assert_eq!(
            shown,
            format!(
                "{}…(+{} bytes)",
                "x".repeat(MAX_CHARS),
                1_000_000 - MAX_CHARS
            )
        );
    }

    proptest! {
        /// Whatever the peer sends, the shown text is small and has no raw control character.
        #[test]
        fn shown_text_is_bounded_and_has_no_control_characters(text in any::<String>()) {
            let shown = bounded(&text);
            // An escaped control character is at most 10 bytes (`\u{10ffff}`), a char 4.
            prop_assert!(shown.len() <= MAX_CHARS * 10 + 32);
            prop_assert!(!shown.chars().any(char::is_control));
        }
    }
}

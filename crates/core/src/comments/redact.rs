//! Personal data out of comments before anything else sees them: e-mail addresses, card
//! numbers (13–19 digits passing the Luhn check) and phone numbers (8–15 digits, not a
//! date) become a tag.

use std::borrow::Cow;

pub const EMAIL: &str = "[email]";
pub const CARD: &str = "[card]";
pub const PHONE: &str = "[phone]";

/// The text with every e-mail address, card number and phone number replaced by its tag.
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut spans = emails(text);
    let numbers: Vec<Span> = numbers(text)
        .into_iter()
        .filter(|s| !overlaps(&spans, s))
        .collect();
    spans.extend(numbers);
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    spans.sort_by_key(|s| s.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for s in spans {
        out.push_str(&text[at..s.start]);
        out.push_str(s.tag);
        at = s.end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// Bytes `start..end` of the text are to be replaced by `tag`.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    tag: &'static str,
}

fn overlaps(spans: &[Span], s: &Span) -> bool {
    spans.iter().any(|o| s.start < o.end && o.start < s.end)
}

/// `local@domain.tld`: the local part letters, digits and `._%+-`; the domain letters,
/// digits, `-` and dots, with a dot followed by a letter or digit.
fn emails(text: &str) -> Vec<Span> {
    let local = |c: char| c.is_alphanumeric() || "._%+-".contains(c);
    let domain = |c: char| c.is_alphanumeric() || c == '-' || c == '.';
    let mut spans: Vec<Span> = Vec::new();
    for (at, _) in text.match_indices('@') {
        let floor = spans.last().map_or(0, |s| s.end);
        if at < floor {
            continue;
        }
        let start = text[floor..at]
            .char_indices()
            .rev()
            .take_while(|&(_, c)| local(c))
            .last()
            .map_or(at, |(i, _)| floor + i);
        let rest = &text[at + 1..];
        let host_len = rest.find(|c: char| !domain(c)).unwrap_or(rest.len());
        let host = rest[..host_len].trim_end_matches(['.', '-']);
        let has_tld = host
            .rsplit_once('.')
            .is_some_and(|(name, tld)| !name.is_empty() && !tld.is_empty());
        if start < at && has_tld {
            spans.push(Span {
                start,
                end: at + 1 + host.len(),
                tag: EMAIL,
            });
        }
    }
    spans
}

/// Runs of digits joined by at most two of ` -./()` (a leading `+` or `(` included), as
/// card or phone numbers where they are one.
fn numbers(text: &str) -> Vec<Span> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = if i > 0 && matches!(bytes[i - 1], b'+' | b'(') {
            i - 1
        } else {
            i
        };
        let (end, groups) = digit_run(bytes, i);
        if let Some(tag) = classify(&text[start..end], &groups) {
            spans.push(Span { start, end, tag });
        }
        i = end.max(i + 1);
    }
    spans
}

/// The end of the run of digit groups starting at `i`, and the groups (digits of each).
fn digit_run(bytes: &[u8], mut i: usize) -> (usize, Vec<&[u8]>) {
    let joiner = |b: u8| matches!(b, b' ' | b'-' | b'.' | b'/' | b'(' | b')');
    let mut groups = Vec::new();
    loop {
        let g = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        groups.push(&bytes[g..i]);
        let gap = bytes[i..]
            .iter()
            .take(2)
            .take_while(|&&b| joiner(b))
            .count();
        if gap == 0 || !bytes.get(i + gap).is_some_and(u8::is_ascii_digit) {
            let closing = usize::from(bytes.get(i) == Some(&b')'));
            return (i + closing, groups);
        }
        i += gap;
    }
}

/// A card number when 13–19 digits pass the Luhn check, else a phone number when 8–15
/// digits are not a date (yyyy-mm-dd, dd.mm.yyyy, mm/dd/yyyy).
fn classify(run: &str, groups: &[&[u8]]) -> Option<&'static str> {
    let digits: Vec<u8> = groups
        .iter()
        .flat_map(|g| g.iter().map(|d| d - b'0'))
        .collect();
    if (13..=19).contains(&digits.len()) && luhn(&digits) {
        Some(CARD)
    } else if (8..=15).contains(&digits.len()) && !is_date(run, groups) {
        Some(PHONE)
    } else {
        None
    }
}

/// The Luhn check: from the right, every second digit doubled (less 9 above 9), the sum a
/// multiple of 10.
fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(k, &d)| {
            let d = u32::from(d) * if k % 2 == 1 { 2 } else { 1 };
            if d > 9 { d - 9 } else { d }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Three groups of a year and two numbers that can be a month and a day.
fn is_date(run: &str, groups: &[&[u8]]) -> bool {
    if groups.len() != 3 || run.starts_with(['+', '(']) {
        return false;
    }
    let n = |g: &[u8]| g.iter().fold(0u32, |a, &d| a * 10 + u32::from(d - b'0'));
    let day_month =
        |a: u32, b: u32| (1..=31).contains(&a) && (1..=31).contains(&b) && (a <= 12 || b <= 12);
    match groups.iter().map(|g| g.len()).collect::<Vec<_>>()[..] {
        [4, 2, 2] => day_month(n(groups[1]), n(groups[2])),
        [1 | 2, 1 | 2, 4] => day_month(n(groups[0]), n(groups[1])),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        let cases = [
            (
                "mail me at jane.doe+cx@example.co.uk.",
                "mail me at [email].",
            ),
            ("call +45 12 34 56 78 today", "call [phone] today"),
            ("call (555) 123-4567", "call [phone]"),
            (
                "card 4111 1111 1111 1111 was charged",
                "card [card] was charged",
            ),
            (
                "card 4111-1111-1111-1112 was charged",
                "card 4111-1111-1111-1112 was charged",
            ),
            (
                "flight on 2025-03-14 and 14.03.2025",
                "flight on 2025-03-14 and 14.03.2025",
            ),
            (
                "seat 12A, gate 7, 3 hours late",
                "seat 12A, gate 7, 3 hours late",
            ),
            ("user@localhost and @ alone", "user@localhost and @ alone"),
        ];
        for (text, want) in cases {
            assert_eq!(redact(text), want, "{text:?}");
        }
    }

    #[test]
    fn luhn_known_numbers() {
        let digits = |s: &str| s.bytes().map(|b| b - b'0').collect::<Vec<_>>();
        assert!(luhn(&digits("79927398713")));
        assert!(!luhn(&digits("79927398710")));
        assert!(luhn(&digits("4111111111111111")));
    }

    /// Letters, spaces and punctuation without digits or `@`, around the personal data.
    fn filler() -> impl Strategy<Value = String> {
        "[a-zA-ZæøåäöüéÆ ,.!?'()-]{0,30}"
    }

    fn email() -> impl Strategy<Value = String> {
        (
            "[a-z0-9._%+-]{1,20}",
            "[a-z0-9-]{1,15}",
            prop::collection::vec("[a-z]{2,6}", 1..3),
        )
            .prop_map(|(local, host, tlds)| format!("{local}@{host}.{}", tlds.join(".")))
    }

    fn phone() -> impl Strategy<Value = String> {
        let sep = prop::sample::select(vec![" ", "-", ".", ""]);
        prop_oneof![
            (
                "[1-9][0-9]{1,2}",
                prop::collection::vec("[0-9]{2,3}", 3..5),
                sep.clone()
            )
                .prop_map(|(cc, groups, s)| format!("+{cc} {}", groups.join(s))),
            ("0[1-9][0-9]{1,3}", "[0-9]{5,8}", sep.clone())
                .prop_map(|(area, rest, s)| format!("{area}{s}{rest}")),
            ("[2-9][0-9]{2}", "[0-9]{3}", "[0-9]{4}")
                .prop_map(|(a, b, c)| format!("({a}) {b}-{c}")),
        ]
    }

    fn card() -> impl Strategy<Value = String> {
        let sep = prop::sample::select(vec![" ", "-", ""]);
        (prop::collection::vec(0u8..10, 12..19), sep).prop_map(|(mut digits, s)| {
            let check = (0..10).find(|&c| {
                digits.push(c);
                let ok = luhn(&digits);
                digits.pop();
                ok
            });
            digits.push(check.unwrap_or(0));
            let text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
            let groups: Vec<&str> = text
                .as_bytes()
                .chunks(4)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect();
            groups.join(s)
        })
    }

    /// Digits, the joiners and `@` among letters and any other characters.
    fn messy() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            "[0-9]{1,4}",
            "[@. +()/-]",
            "[a-z]{1,3}",
            "\\PC",
            "[\\x00-\\x1f]"
        ];
        prop::collection::vec(piece, 0..80).prop_map(|p| p.concat())
    }

    proptest! {
        #[test]
        fn no_email_survives(a in filler(), e in email(), b in filler()) {
            let out = redact(&format!("{a} {e} {b}")).into_owned();
            prop_assert!(!out.contains('@'), "{out}");
            prop_assert!(out.contains(EMAIL));
        }

        #[test]
        fn no_phone_survives(a in filler(), p in phone(), b in filler()) {
            let out = redact(&format!("{a} {p} {b}")).into_owned();
            prop_assert!(!out.bytes().any(|c| c.is_ascii_digit()), "{out}");
        }

        #[test]
        fn no_card_survives(a in filler(), c in card(), b in filler()) {
            let out = redact(&format!("{a} {c} {b}")).into_owned();
            prop_assert!(out.contains(CARD), "{out}");
            prop_assert!(!out.bytes().any(|c| c.is_ascii_digit()), "{out}");
        }

        #[test]
        fn any_text_is_redacted_once_and_for_all(text in messy()) {
            let once = redact(&text).into_owned();
            prop_assert_eq!(redact(&once), once.as_str());
        }
    }
}

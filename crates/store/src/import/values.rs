//! Parsing text values into typed column values: timestamps (ISO 8601 or a strftime
//! format, in a time zone), exact decimal money, numbers.

use chrono::format::{Item, Parsed, StrftimeItems};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;

/// Microseconds per second.
const MICROS: i64 = 1_000_000;

/// Parses timestamps and dates with one format and one time zone.
#[derive(Debug, Clone)]
pub struct TimeParser {
    format: Option<Vec<Item<'static>>>,
    tz: Tz,
}

impl TimeParser {
    /// A parser for `format` (strftime; `None` for ISO 8601) whose local times are in
    /// `timezone` (an IANA name; `None` for UTC).
    pub fn new(format: Option<&str>, timezone: Option<&str>) -> Result<Self, String> {
        let tz = match timezone {
            None => Tz::UTC,
            Some(name) => name.parse::<Tz>().map_err(|_| {
                format!("unknown time zone '{name}' (use an IANA name such as Europe/Berlin)")
            })?,
        };
        let format = match format {
            None => None,
            Some(f) => {
                let items: Vec<Item<'static>> = StrftimeItems::new(f)
                    .parse_to_owned()
                    .map_err(|_| format!("date format '{f}' is not a valid strftime format"))?;
                Some(items)
            }
        };
        Ok(TimeParser { format, tz })
    }

    /// Microseconds since the epoch (UTC) of a timestamp or date (a date means its
    /// midnight in the parser's time zone).
    pub fn timestamp(&self, text: &str) -> Result<i64, String> {
        match &self.format {
            None => self.iso(text),
            Some(items) => self.formatted(text, items),
        }
        .ok_or_else(|| match &self.format {
            None => format!("'{text}' is not an ISO 8601 date or timestamp (set a date format for other layouts)"),
            Some(_) => format!("'{text}' does not match the date format"),
        })?
    }

    /// Days since the epoch of a date (`YYYY-MM` means the first of the month).
    pub fn date(&self, text: &str) -> Result<i32, String> {
        let micros = if text.len() == 7 && text.as_bytes()[4] == b'-' {
            self.timestamp(&format!("{text}-01"))
        } else {
            self.timestamp(text)
        }?;
        Ok(micros.div_euclid(86_400 * MICROS) as i32)
    }

    fn formatted(&self, text: &str, items: &[Item<'static>]) -> Option<Result<i64, String>> {
        let mut parsed = Parsed::new();
        chrono::format::parse(&mut parsed, text, items.iter()).ok()?;
        if let Ok(dt) = parsed.to_datetime() {
            return Some(Ok(dt.timestamp_micros()));
        }
        let date = parsed.to_naive_date().ok()?;
        let time = parsed.to_naive_time().unwrap_or(NaiveTime::MIN);
        Some(self.local(date.and_time(time)))
    }

    fn iso(&self, text: &str) -> Option<Result<i64, String>> {
        let b = text.as_bytes();
        let date = iso_date(b.get(..10)?)?;
        if b.len() == 10 {
            return Some(self.local(date.and_time(NaiveTime::MIN)));
        }
        if !matches!(b[10], b'T' | b't' | b' ') {
            return None;
        }
        let (time, rest) = iso_time(&b[11..])?;
        let local = date.and_time(time);
        match rest {
            [] => Some(self.local(local)),
            [b'Z' | b'z'] => Some(Ok(local.and_utc().timestamp_micros())),
            offset => {
                let secs = iso_offset(offset)?;
                Some(Ok(local.and_utc().timestamp_micros() - secs * MICROS))
            }
        }
    }

    fn local(&self, t: NaiveDateTime) -> Result<i64, String> {
        self.tz
            .from_local_datetime(&t)
            .earliest()
            .map(|d| d.timestamp_micros())
            .ok_or_else(|| format!("{t} does not exist in time zone {}", self.tz))
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as u32)
    })
}

fn iso_date(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(
        digits(&b[..4])? as i32,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
    )
}

/// `HH:MM[:SS[.fraction]]`, then whatever follows.
fn iso_time(b: &[u8]) -> Option<(NaiveTime, &[u8])> {
    if b.len() < 5 || b[2] != b':' {
        return None;
    }
    let (h, m) = (digits(&b[..2])?, digits(&b[3..5])?);
    let mut rest = &b[5..];
    let (mut s, mut micros) = (0, 0);
    if rest.first() == Some(&b':') {
        s = digits(rest.get(1..3)?)?;
        rest = &rest[3..];
        if matches!(rest.first(), Some(b'.' | b',')) {
            let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return None;
            }
            let frac = &rest[1..1 + n.min(6)];
            micros = digits(frac)? * 10u32.pow(6 - frac.len() as u32);
            rest = &rest[1 + n..];
        }
    }
    Some((NaiveTime::from_hms_micro_opt(h, m, s, micros)?, rest))
}

/// `+HH:MM`, `+HHMM` or `+HH` (or `-`), in seconds east of UTC.
fn iso_offset(b: &[u8]) -> Option<i64> {
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let b = &b[1..];
    let (h, m) = match b.len() {
        2 => (digits(b)?, 0),
        4 => (digits(&b[..2])?, digits(&b[2..])?),
        5 if b[2] == b':' => (digits(&b[..2])?, digits(&b[3..])?),
        _ => return None,
    };
    Some(sign * (h as i64 * 3600 + m as i64 * 60))
}

/// Parses a decimal number exactly into an integer scaled by `10^scale`, rounding
/// further digits half away from zero; refuses values of more than `precision` digits in
/// all (after rounding), which the column could not hold.
pub fn decimal(text: &str, precision: u8, scale: u32) -> Result<i128, String> {
    let err = || format!("'{text}' is not a decimal number");
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit())
    {
        return Err(err());
    }
    let limit = 10i128.pow(u32::from(precision).min(38));
    let out_of_range = || {
        let digits = u32::from(precision).saturating_sub(scale);
        format!("'{text}' is out of range: at most {digits} digits before the decimal point")
    };
    let mut value: i128 = 0;
    for c in int.bytes().chain(
        frac.bytes()
            .chain(std::iter::repeat(b'0'))
            .take(scale as usize),
    ) {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add((c - b'0') as i128))
            .filter(|v| *v < limit)
            .ok_or_else(out_of_range)?;
    }
    if frac
        .as_bytes()
        .get(scale as usize)
        .is_some_and(|&c| c >= b'5')
    {
        value += 1;
        if value >= limit {
            return Err(out_of_range());
        }
    }
    Ok(if negative { -value } else { value })
}

/// Parses a floating-point number; rejects NaN and infinities.
pub fn float(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("'{text}' is not a number")),
    }
}

/// Parses a whole number (a trailing `.0` is accepted).
pub fn int(text: &str) -> Result<i64, String> {
    let t = text.strip_suffix(".0").unwrap_or(text);
    t.parse::<i64>()
        .map_err(|_| format!("'{text}' is not a whole number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
        chrono::Utc
            .with_ymd_and_hms(y, mo, d, h, mi, s)
            .unwrap()
            .timestamp_micros()
    }

    #[test]
    fn iso_forms() {
        let p = TimeParser::new(None, None).unwrap();
        assert_eq!(p.timestamp("2024-03-05"), Ok(utc(2024, 3, 5, 0, 0, 0)));
        assert_eq!(
            p.timestamp("2024-03-05T10:20:30Z"),
            Ok(utc(2024, 3, 5, 10, 20, 30))
        );
        assert_eq!(
            p.timestamp("2024-03-05 10:20"),
            Ok(utc(2024, 3, 5, 10, 20, 0))
        );
        assert_eq!(
            p.timestamp("2024-03-05T10:20:30.25+02:00"),
            Ok(utc(2024, 3, 5, 8, 20, 30) + 250_000)
        );
        assert!(p.timestamp("2024-02-30").is_err());
        assert!(
            p.timestamp("05/03/2024")
                .unwrap_err()
                .contains("set a date format")
        );
    }

    #[test]
    fn formats_and_zones() {
        let p = TimeParser::new(Some("%Y%m%d"), None).unwrap();
        assert_eq!(p.timestamp("19970101"), Ok(utc(1997, 1, 1, 0, 0, 0)));
        assert!(p.timestamp("1997-01-01").is_err());
        let berlin = TimeParser::new(None, Some("Europe/Berlin")).unwrap();
        assert_eq!(
            berlin.timestamp("2024-07-01T12:00:00"),
            Ok(utc(2024, 7, 1, 10, 0, 0))
        );
        assert!(TimeParser::new(None, Some("Mars/Base")).is_err());
        assert_eq!(p.date("19970102"), Ok(9863));
        assert_eq!(
            TimeParser::new(None, None).unwrap().date("1997-01"),
            Ok(9862)
        );
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(decimal("11.77", 18, 4), Ok(117_700));
        assert_eq!(decimal("-0.5", 18, 4), Ok(-5_000));
        assert_eq!(decimal("3", 18, 4), Ok(30_000));
        assert_eq!(decimal("1.23455", 18, 4), Ok(12_346));
        assert_eq!(decimal(".5", 18, 4), Ok(5_000));
        for bad in ["", "-", "1.2.3", "1e3", "12,5", "abc", "."] {
            assert!(decimal(bad, 18, 4).is_err(), "{bad}");
        }
    }

    #[test]
    fn decimals_beyond_the_precision_are_refused() {
        let max = 999_999_999_999_999_999;
        assert_eq!(decimal("99999999999999.9999", 18, 4), Ok(max));
        assert_eq!(decimal("-99999999999999.99994", 18, 4), Ok(-max));
        assert_eq!(decimal("00099999999999999.9999", 18, 4), Ok(max));
        for bad in [
            "100000000000000",
            "99999999999999.99995",
            "-123456789012345.5",
            "170141183460469231731687303715884105728",
        ] {
            let err = decimal(bad, 18, 4).unwrap_err();
            assert!(
                err.ends_with("at most 14 digits before the decimal point"),
                "{err}"
            );
        }
    }

    /// `value` (scaled by 10^4) written out as a decimal number.
    fn written(value: i128) -> String {
        let sign = if value < 0 { "-" } else { "" };
        let v = value.unsigned_abs();
        format!("{sign}{}.{:04}", v / 10_000, v % 10_000)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        #[test]
        fn any_text_is_a_decimal_in_range_or_refused(text in "[-+]?[0-9]{0,40}(\\.[0-9]{0,8})?|\\PC{0,20}") {
            if let Ok(v) = decimal(&text, 18, 4) {
                proptest::prop_assert!(v.unsigned_abs() < 10u128.pow(18));
                proptest::prop_assert_eq!(decimal(&written(v), 18, 4), Ok(v));
            }
        }

        /// Every value the column holds round-trips exactly; one digit more is refused.
        #[test]
        fn values_in_range_round_trip(v in -999_999_999_999_999_999i128..=999_999_999_999_999_999) {
            proptest::prop_assert_eq!(decimal(&written(v), 18, 4), Ok(v));
            let wider = format!("{}1{}", if v < 0 { "-" } else { "" }, written(v.abs()));
            proptest::prop_assert!(decimal(&wider, 18, 4).is_err() || v.abs() < 10i128.pow(17));
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(int("42"), Ok(42));
        assert_eq!(int("2.0"), Ok(2));
        assert!(int("2.5").is_err());
        assert!(float("NaN").is_err());
        assert_eq!(float("1e3"), Ok(1000.0));
    }
}

//! Formatting numbers for people.

/// Groups the digits of a count in thousands: 69659 → "69,659".
pub fn thousands(n: u64) -> String {
    grouped(&n.to_string())
}

/// A string of digits grouped in thousands.
fn grouped(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A figure with its interval where known: "12.3 (10.1 – 14.5)".
pub fn with_interval(value: f64, low: Option<f64>, high: Option<f64>, decimals: usize) -> String {
    match (low, high) {
        (Some(lo), Some(hi)) => format!("{value:.decimals$} ({lo:.decimals$} – {hi:.decimals$})"),
        _ => format!("{value:.decimals$}"),
    }
}

/// An amount rounded to whole units, digits grouped, negative with a true minus sign:
/// −1,234.
pub fn money(value: f64) -> String {
    let digits = thousands(value.abs().round() as u64);
    if value < -0.5 {
        format!("−{digits}")
    } else {
        digits
    }
}

/// An amount's interval, "1,234 – 5,678", or "—" where it has none.
pub fn money_range(low: Option<f64>, high: Option<f64>) -> String {
    match (low, high) {
        (Some(lo), Some(hi)) => format!("{} – {}", money(lo), money(hi)),
        _ => "—".into(),
    }
}

/// An amount with its interval where known: "3,456 (1,234 – 5,678)".
pub fn money_with_interval(value: f64, low: Option<f64>, high: Option<f64>) -> String {
    match (low, high) {
        (Some(_), Some(_)) => format!("{} ({})", money(value), money_range(low, high)),
        _ => money(value),
    }
}

/// A figure to at least `digits` significant digits (all its whole digits), grouped in
/// thousands, negative with a true minus sign: 2.891 → "2.89", 0.000123 → "0.000123",
/// 12345.6 → "12,346". Only zero reads as zero; not finite values read as Rust writes them.
pub fn significant(value: f64, digits: u32) -> String {
    if value == 0.0 || !value.is_finite() {
        return if value == 0.0 {
            "0".into()
        } else {
            value.to_string()
        };
    }
    let magnitude = value.abs().log10().floor() as i32;
    let decimals = usize::try_from(digits as i32 - 1 - magnitude).unwrap_or(0);
    let text = format!("{:.decimals$}", value.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let sign = if value < 0.0 { "−" } else { "" };
    let point = if fraction.is_empty() { "" } else { "." };
    format!("{sign}{}{point}{fraction}", grouped(whole))
}

/// A figure with its interval where known, each to `digits` significant digits:
/// "2.89 (2.33 – 3.59)", "0.412 (0.000231 – 0.727)".
pub fn significant_with_interval(
    value: f64,
    low: Option<f64>,
    high: Option<f64>,
    digits: u32,
) -> String {
    let figure = |v| significant(v, digits);
    match (low, high) {
        (Some(lo), Some(hi)) => format!("{} ({} – {})", figure(value), figure(lo), figure(hi)),
        _ => figure(value),
    }
}

/// What people read for money at risk whose loss is not distinguishable from zero.
pub const NO_MEASURABLE_LOSS: &str = "no measurable loss";

/// An amount abbreviated to three significant digits with k, m or bn, and its currency
/// where known (see [`with_currency`]): "7.96 m EUR", "€25.9 k", "812".
pub fn money_short(value: f64, currency: Option<&str>) -> String {
    let size = value.abs();
    let (scaled, unit) = match size {
        s if s >= 999_500_000.0 => (value / 1e9, " bn"),
        s if s >= 999_500.0 => (value / 1e6, " m"),
        s if s >= 1_000.0 => (value / 1e3, " k"),
        _ => (value, ""),
    };
    let decimals = match scaled.abs() {
        s if unit.is_empty() || s >= 99.95 => 0,
        s if s >= 9.995 => 1,
        _ => 2,
    };
    let text = format!("{:.decimals$}{unit}", scaled.abs());
    let signed = if value < -0.5 {
        format!("−{text}")
    } else {
        text
    };
    with_currency(currency.unwrap_or_default(), signed)
}

/// An amount in whole units with digits grouped and its currency where known:
/// "7,956,884 EUR".
pub fn money_in(value: f64, currency: Option<&str>) -> String {
    with_currency(currency.unwrap_or_default(), money(value))
}

/// An amount written with its currency: a symbol before it (€1,234, −€5), a letter code
/// after (1,234 EUR), nothing for none.
pub fn with_currency(currency: &str, amount: String) -> String {
    let (sign, digits) = match amount.strip_prefix('−') {
        Some(rest) => ("−", rest),
        None => ("", amount.as_str()),
    };
    if !currency.is_empty() && currency.chars().all(char::is_alphabetic) {
        format!("{sign}{digits} {currency}")
    } else {
        format!("{sign}{currency}{digits}")
    }
}

/// `digits` (a magnitude) with the sign of `v`: "+1.3", "−7.5", "0.0" (no sign when the
/// digits are all zero).
pub fn signed(v: f64, digits: String) -> String {
    match digits.trim_start_matches(['0', '.', ',']).is_empty() {
        true => digits,
        false if v < 0.0 => format!("−{digits}"),
        false => format!("+{digits}"),
    }
}

/// A value and its interval, each written signed by `write` (the magnitude).
fn signed_interval(
    value: f64,
    interval: (Option<f64>, Option<f64>),
    write: impl Fn(f64) -> String,
) -> String {
    let s = |v: f64| signed(v, write(v.abs()));
    match interval {
        (Some(lo), Some(hi)) => format!("{} ({} – {})", s(value), s(lo), s(hi)),
        _ => s(value),
    }
}

/// A difference in percentage points, signed, with its interval: "+2.3 (−0.4 – +5.0)".
pub fn points(d: &crate::stats::Difference) -> String {
    signed_interval(d.value, (d.low, d.high), |v| format!("{v:.1}"))
}

/// A difference in money, signed, with its interval.
pub fn money_difference(d: &crate::stats::Difference) -> String {
    signed_interval(d.value, (d.low, d.high), money)
}

/// A signed count with its interval (rounded to whole ones).
pub fn signed_count(e: &crate::stats::Estimate) -> String {
    signed_interval(e.value, (e.low, e.high), |v| thousands(v.round() as u64))
}

/// An amount of money in `currency` with its interval.
pub fn money_estimate(e: &crate::stats::Estimate, currency: Option<&str>) -> String {
    let range = match (e.low, e.high) {
        (Some(lo), Some(hi)) => format!(" ({} – {})", money(lo), money(hi)),
        _ => String::new(),
    };
    format!("{}{range}", money_in(e.value, currency))
}

/// A p-value: three decimals, "<0.001" below that, empty when there is none.
pub fn p_value(p: Option<f64>) -> String {
    p.map_or(String::new(), |p| match p < 0.001 {
        true => "<0.001".into(),
        false => format!("{p:.3}"),
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    /// The number a text written by `significant` stands for.
    fn read(text: &str) -> f64 {
        text.replace(',', "").replace('−', "-").parse().unwrap()
    }

    proptest! {
        /// Any non-zero value reads as non-zero, within half a unit of its last
        /// significant digit.
        #[test]
        fn significant_is_never_zero_and_within_precision(
            mantissa in 1.0f64..10.0,
            exponent in -300i32..15,
            negative in any::<bool>(),
            digits in 1u32..6,
        ) {
            let value = mantissa * 10f64.powi(exponent) * if negative { -1.0 } else { 1.0 };
            let text = super::significant(value, digits);
            prop_assert!(text.bytes().any(|b| (b'1'..=b'9').contains(&b)), "{value} → {text}");
            let tolerance = 0.5 * 10f64.powi(1 - digits as i32) * (1.0 + 1e-9);
            let error = (read(&text) - value).abs() / value.abs();
            prop_assert!(error <= tolerance, "{value} → {text}: relative error {error}");
            prop_assert_eq!(text.starts_with('−'), negative);
        }
    }

    #[test]
    fn significant_digits() {
        assert_eq!(super::significant(2.891, 3), "2.89");
        assert_eq!(super::significant(0.000_123_4, 3), "0.000123");
        assert_eq!(super::significant(12_345.6, 3), "12,346");
        assert_eq!(super::significant(-0.0, 3), "0");
        assert_eq!(super::significant(f64::INFINITY, 3), "inf");
        assert_eq!(
            super::significant_with_interval(0.412, Some(0.000_231), Some(0.727), 3),
            "0.412 (0.000231 – 0.727)"
        );
        assert_eq!(super::significant_with_interval(1.5, None, None, 3), "1.50");
    }

    #[test]
    fn thousands() {
        assert_eq!(super::thousands(69659), "69,659");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn intervals_and_money() {
        assert_eq!(
            super::with_interval(1.0, Some(0.5), Some(1.5), 1),
            "1.0 (0.5 – 1.5)"
        );
        assert_eq!(super::with_interval(1.0, None, Some(1.5), 2), "1.00");
        assert_eq!(super::money(-1234.4), "−1,234");
        assert_eq!(super::money(-0.4), "0");
        assert_eq!(
            super::money_with_interval(3456.2, Some(1234.0), Some(5678.0)),
            "3,456 (1,234 – 5,678)"
        );
        assert_eq!(super::money_with_interval(-2.0, None, Some(1.0)), "−2");
        assert_eq!(super::money_range(Some(1.0), None), "—");
    }

    #[test]
    fn money_with_currency_abbreviated_consistently() {
        let eur = Some("EUR");
        assert_eq!(super::money_short(7_956_884.0, eur), "7.96 m EUR");
        assert_eq!(super::money_short(25_940.0, Some("€")), "€25.9 k");
        assert_eq!(super::money_short(999_999.0, eur), "1.00 m EUR");
        assert_eq!(super::money_short(-4_952.0, Some("$")), "−$4.95 k");
        assert_eq!(super::money_short(812.4, Some("")), "812");
        assert_eq!(super::money_short(123_456_789_000.0, eur), "123 bn EUR");
        assert_eq!(super::money_in(7_956_884.0, eur), "7,956,884 EUR");
    }
}

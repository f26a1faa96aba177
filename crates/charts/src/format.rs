//! Writing numbers for people: in full (labels, tooltips, tables) and as axis ticks.

use cxray_core::text::with_currency;

/// How a chart writes its numbers.
#[derive(Clone, Debug, Default)]
pub enum Format {
    /// Plain numbers: 1,234 or 0.0432; ticks as 2k, 1.5M, 3B.
    #[default]
    Number,
    /// Shares written as percentages: 0.421 → 42.1%.
    Percent,
    /// Money: a symbol goes before the amount (€1,234), a letter code after (1,234 EUR).
    Money {
        /// The currency symbol or code.
        currency: String,
    },
    /// The caller's own writing, used for every number (its output is escaped).
    Custom(fn(f64) -> String),
}

impl Format {
    /// Money in `currency`.
    pub fn money(currency: impl Into<String>) -> Format {
        Format::Money {
            currency: currency.into(),
        }
    }

    /// `value` written in full, for labels, tooltips and the numbers table.
    pub fn full(&self, value: f64) -> String {
        match self {
            Format::Number => significant(value),
            Format::Percent => format!("{}%", significant(value * 100.0)),
            Format::Money { currency } => {
                let decimals = if value.abs() >= 100.0 { 0 } else { 2 };
                with_currency(currency, decimal(value, decimals))
            }
            Format::Custom(write) => write(value),
        }
    }

    /// Labels for ticks that are whole multiples of 10^`exponent`; one unit and one
    /// number of decimals for the whole axis.
    pub(crate) fn ticks(&self, values: &[f64], exponent: i32) -> Vec<String> {
        let max = values.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        values
            .iter()
            .map(|&v| self.tick(v, exponent, max))
            .collect()
    }

    fn tick(&self, value: f64, exponent: i32, max: f64) -> String {
        match self {
            Format::Custom(write) => write(value),
            Format::Percent if value == 0.0 => "0%".into(),
            Format::Percent => format!("{}%", decimal(value * 100.0, decimals(exponent + 2, 0))),
            Format::Number => compact(value, exponent, max),
            Format::Money { currency } => with_currency(currency, compact(value, exponent, max)),
        }
    }
}

/// A tick value in thousands (k), millions (M) or billions (B) when the axis reaches them.
fn compact(value: f64, exponent: i32, max: f64) -> String {
    if value == 0.0 {
        return "0".into();
    }
    let (unit, suffix) = [(9, "B"), (6, "M"), (3, "k")]
        .into_iter()
        .find(|&(unit, _)| max >= 10_f64.powi(unit))
        .unwrap_or((0, ""));
    let scaled = value / 10_f64.powi(unit);
    format!("{}{suffix}", decimal(scaled, decimals(exponent, unit)))
}

/// Decimals needed to write multiples of 10^`exponent` in units of 10^`unit`.
fn decimals(exponent: i32, unit: i32) -> usize {
    usize::try_from(unit - exponent).unwrap_or(0)
}

/// About three significant digits (all the integer digits), trailing zeros dropped.
fn significant(value: f64) -> String {
    if value == 0.0 {
        return "0".into();
    }
    let magnitude = value.abs().log10().floor() as i32;
    trim_zeros(decimal(value, decimals(magnitude - 2, 0).min(6)))
}

/// `value` with `decimals` decimals, thousands grouped, and a minus sign (−) unless it
/// rounds to zero.
fn decimal(value: f64, decimals: usize) -> String {
    let digits = format!("{:.*}", decimals, value.abs());
    let (int, frac) = digits.split_once('.').unwrap_or((&digits, ""));
    let negative = value < 0.0 && digits.bytes().any(|b| matches!(b, b'1'..=b'9'));
    let mut out = String::with_capacity(digits.len() + 8);
    if negative {
        out.push('−');
    }
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// Drops trailing zeros after a decimal point, and the point if nothing follows it.
pub(crate) fn trim_zeros(mut text: String) -> String {
    if text.contains('.') {
        let kept = text.trim_end_matches('0').trim_end_matches('.').len();
        text.truncate(kept);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::Format;

    #[test]
    fn full_numbers_keep_three_significant_digits() {
        let f = Format::Number;
        assert_eq!(f.full(32.41), "32.4");
        assert_eq!(f.full(0.04321), "0.0432");
        assert_eq!(f.full(12_345.6), "12,346");
        assert_eq!(f.full(-1_234_567.0), "−1,234,567");
        assert_eq!(f.full(0.5), "0.5");
        assert_eq!(f.full(0.0), "0");
        assert_eq!(f.full(-0.000_000_1), "0");
    }

    #[test]
    fn percentages_and_money() {
        assert_eq!(Format::Percent.full(0.421_34), "42.1%");
        assert_eq!(Format::Percent.full(1.0), "100%");
        assert_eq!(Format::money("€").full(-1_234_567.4), "−€1,234,567");
        assert_eq!(Format::money("€").full(12.5), "€12.50");
        assert_eq!(Format::money("EUR").full(2_500.0), "2,500 EUR");
    }

    #[test]
    fn ticks_share_a_unit_and_decimals() {
        let ticks = |f: &Format, v: &[f64], e| f.ticks(v, e);
        assert_eq!(
            ticks(&Format::Number, &[0.0, 500.0, 1000.0, 1500.0], 2),
            ["0", "0.5k", "1.0k", "1.5k"]
        );
        assert_eq!(
            ticks(&Format::money("$"), &[-2e6, 0.0, 2e6, 4e6], 6),
            ["−$2M", "$0", "$2M", "$4M"]
        );
        assert_eq!(
            ticks(&Format::Percent, &[0.0, 0.25, 0.5], -2),
            ["0%", "25%", "50%"]
        );
        assert_eq!(
            ticks(&Format::Percent, &[0.0, 0.005, 0.01], -3),
            ["0%", "0.5%", "1.0%"]
        );
        assert_eq!(
            ticks(&Format::Number, &[20.0, 25.0, 30.0], 0),
            ["20", "25", "30"]
        );
        assert_eq!(
            ticks(&Format::Number, &[0.0, 0.2, 0.4], -1),
            ["0", "0.2", "0.4"]
        );
    }

    #[test]
    fn custom_formatting_is_used_everywhere() {
        let f = Format::Custom(|v| format!("{v:.0} days"));
        assert_eq!(f.full(30.0), "30 days");
        assert_eq!(f.ticks(&[0.0, 30.0], 1), ["0 days", "30 days"]);
    }
}

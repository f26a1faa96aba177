//! The import contract: the event tables, their typed columns and the value rules.
//!
//! Every table has stable column names (see `PRODUCT.md`). Columns a source has beyond
//! these are kept as text attributes by the store.

use std::fmt;

/// The type of a contract column, independent of any storage format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// UTF-8 text.
    Text,
    /// An instant, stored in UTC with microsecond precision.
    Timestamp,
    /// A calendar date (used for financial periods).
    Date,
    /// A money amount, stored as a decimal with [`MONEY_SCALE`] fraction digits.
    Money,
    /// A floating-point measure.
    Float,
    /// A whole number.
    Int,
}

/// Fraction digits kept for money amounts; more digits are rounded half away from zero.
pub const MONEY_SCALE: u32 = 4;
/// Total decimal digits of a money amount.
pub const MONEY_PRECISION: u8 = 18;

/// A value rule beyond the column type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Any value of the type.
    Any,
    /// Text that must be one of these (compared lower-case; stored lower-case).
    OneOf(&'static [&'static str]),
    /// A number that must not be negative.
    NonNegative,
    /// A survey score, valid for the row's `instrument` (see [`parse_score`]).
    Score,
}

/// One column of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The stable column name.
    pub name: &'static str,
    /// Its type.
    pub ty: ColumnType,
    /// Whether every row must have a value.
    pub required: bool,
    /// A value rule.
    pub rule: Rule,
}

const fn col(name: &'static str, ty: ColumnType, required: bool, rule: Rule) -> Column {
    Column {
        name,
        ty,
        required,
        rule,
    }
}

use ColumnType::*;
use Rule::*;

/// Interaction outcomes.
pub const OUTCOMES: &[&str] = &["ok", "failed"];
/// Survey instruments.
pub const INSTRUMENTS: &[&str] = &["nps", "csat", "ces", "grade"];
/// Kinds of owner: an internal team, a contracted partner, or an outside party nobody at
/// the company controls (an airport's security, say).
pub const OWNER_KINDS: &[&str] = &["team", "partner", "external"];

/// An owner kind's name for people: "outside party" for `external`; any other text as it is.
pub fn owner_kind_label(kind: &str) -> &str {
    match kind {
        "external" => "outside party",
        other => other,
    }
}

const CUSTOMERS: &[Column] = &[
    col("customer_id", Text, true, Any),
    col("first_seen", Timestamp, false, Any),
    col("segment", Text, false, Any),
    col("region", Text, false, Any),
];
const TRANSACTIONS: &[Column] = &[
    col("customer_id", Text, true, Any),
    col("at", Timestamp, true, Any),
    col("amount", Money, true, Any),
    col("order_id", Text, false, Any),
    col("quantity", Int, false, NonNegative),
    col("currency", Text, false, Any),
];
const INTERACTIONS: &[Column] = &[
    col("customer_id", Text, true, Any),
    col("at", Timestamp, true, Any),
    col("touchpoint", Text, true, Any),
    col("journey", Text, false, Any),
    col("stage", Text, false, Any),
    col("owner", Text, false, Any),
    col("channel", Text, false, Any),
    col("outcome", Text, false, OneOf(OUTCOMES)),
    col("wait_seconds", Float, false, NonNegative),
];
const RESPONSES: &[Column] = &[
    col("customer_id", Text, true, Any),
    col("at", Timestamp, true, Any),
    col("instrument", Text, true, OneOf(INSTRUMENTS)),
    col("score", Float, true, Score),
    col("touchpoint", Text, false, Any),
    col("comment", Text, false, Any),
];
const OWNERS: &[Column] = &[
    col("owner_id", Text, true, Any),
    col("name", Text, true, Any),
    col("kind", Text, true, OneOf(OWNER_KINDS)),
    col("sla_hours", Float, false, NonNegative),
    col("contact", Text, false, Any),
];
const FINANCIALS: &[Column] = &[
    col("period", Date, true, Any),
    col("metric", Text, true, Any),
    col("value", Float, true, Any),
    col("currency", Text, false, Any),
];

/// The event tables of a data folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Customers,
    Transactions,
    Interactions,
    Responses,
    Owners,
    Financials,
}

impl Table {
    /// Every table, in a stable order.
    pub const ALL: [Table; 6] = [
        Table::Customers,
        Table::Transactions,
        Table::Interactions,
        Table::Responses,
        Table::Owners,
        Table::Financials,
    ];

    /// The table's name in SQL and on disk.
    pub fn name(self) -> &'static str {
        match self {
            Table::Customers => "customers",
            Table::Transactions => "transactions",
            Table::Interactions => "interactions",
            Table::Responses => "responses",
            Table::Owners => "owners",
            Table::Financials => "financials",
        }
    }

    /// The contract columns, required ones first.
    pub fn columns(self) -> &'static [Column] {
        match self {
            Table::Customers => CUSTOMERS,
            Table::Transactions => TRANSACTIONS,
            Table::Interactions => INTERACTIONS,
            Table::Responses => RESPONSES,
            Table::Owners => OWNERS,
            Table::Financials => FINANCIALS,
        }
    }

    /// The contract column of this name, if any.
    pub fn column(self, name: &str) -> Option<&'static Column> {
        self.columns().iter().find(|c| c.name == name)
    }

    /// The column that holds the event time, for date ranges in summaries.
    pub fn time_column(self) -> Option<&'static str> {
        match self {
            Table::Customers => Some("first_seen"),
            Table::Transactions | Table::Interactions | Table::Responses => Some("at"),
            Table::Owners => None,
            Table::Financials => Some("period"),
        }
    }

    /// Whether rows of this table carry a `customer_id`.
    pub fn has_customer(self) -> bool {
        self.column("customer_id").is_some()
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Table {
    type Err = UnknownTable;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Table::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| UnknownTable(s.to_string()))
    }
}

/// A table name that is not part of the contract.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown table '{0}' (expected one of: customers, transactions, interactions, responses, owners, financials)"
)]
pub struct UnknownTable(pub String);

/// The valid score range of a survey instrument, inclusive.
pub fn score_range(instrument: &str) -> Option<(f64, f64)> {
    match instrument {
        "nps" => Some((0.0, 10.0)),
        "csat" => Some((1.0, 5.0)),
        "ces" => Some((1.0, 7.0)),
        "grade" => Some((0.0, 4.0)),
        _ => None,
    }
}

/// Report-card grade letters, best first, and their grade points (A = 4 … F = 0).
pub const GRADES: [(char, f64); 5] = [('A', 4.0), ('B', 3.0), ('C', 2.0), ('D', 1.0), ('F', 0.0)];

/// Parses a score for an instrument: a number in its range, or for `grade` also a letter.
pub fn parse_score(instrument: &str, text: &str) -> Result<f64, String> {
    let (lo, hi) =
        score_range(instrument).ok_or_else(|| format!("unknown instrument '{instrument}'"))?;
    let t = text.trim();
    if let (true, [letter]) = (instrument == "grade", t.as_bytes()) {
        let up = letter.to_ascii_uppercase() as char;
        if let Some((_, points)) = GRADES.iter().find(|(g, _)| *g == up) {
            return Ok(*points);
        }
    }
    let v: f64 = t
        .parse()
        .map_err(|_| format!("score '{t}' is not a number"))?;
    if !(lo..=hi).contains(&v) {
        return Err(format!(
            "score {v} is out of range for {instrument} ({lo}–{hi})"
        ));
    }
    if instrument != "grade" && v.fract() != 0.0 {
        return Err(format!("score {v} for {instrument} must be a whole number"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_kinds_have_names_for_people() {
        let names: Vec<&str> = OWNER_KINDS.iter().map(|k| owner_kind_label(k)).collect();
        assert_eq!(names, ["team", "partner", "outside party"]);
        assert_eq!(owner_kind_label("supplier"), "supplier");
    }

    #[test]
    fn grade_letters_and_numbers() {
        assert_eq!(parse_score("grade", "a"), Ok(4.0));
        assert_eq!(parse_score("grade", "F"), Ok(0.0));
        assert_eq!(parse_score("grade", "2"), Ok(2.0));
        assert!(parse_score("grade", "E").is_err());
    }

    #[test]
    fn scores_out_of_range_are_rejected() {
        assert!(
            parse_score("nps", "11")
                .unwrap_err()
                .contains("out of range")
        );
        assert!(parse_score("csat", "0").is_err());
        assert!(
            parse_score("nps", "7.5")
                .unwrap_err()
                .contains("whole number")
        );
        assert_eq!(parse_score("ces", "7"), Ok(7.0));
    }

    #[test]
    fn table_names_round_trip() {
        for t in Table::ALL {
            assert_eq!(t.name().parse::<Table>(), Ok(t));
        }
        assert!("orders".parse::<Table>().is_err());
    }
}

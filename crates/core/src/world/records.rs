//! The rows a simulated world emits, one struct per event table, and the sink they go to.
//!
//! Times are microseconds since the Unix epoch, UTC. Money is in the world's currency,
//! already rounded to cents.

/// A customer; `tier` and `home_airport` become attribute columns.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerRow {
    pub customer_id: String,
    pub first_seen: i64,
    pub segment: String,
    pub region: String,
    pub tier: String,
    pub home_airport: String,
    /// The language the customer writes in (a language code; empty when the world has no
    /// `[comments]`).
    pub language: String,
}

/// A purchase (a booked trip); `airport` becomes an attribute column.
#[derive(Debug, Clone, PartialEq)]
pub struct TransactionRow {
    pub customer_id: String,
    pub at: i64,
    pub amount: f64,
    pub order_id: String,
    pub quantity: i64,
    pub currency: String,
    pub airport: String,
}

/// A touchpoint experience; `airport` becomes an attribute column.
#[derive(Debug, Clone, PartialEq)]
pub struct InteractionRow {
    pub customer_id: String,
    pub at: i64,
    pub touchpoint: String,
    pub journey: String,
    pub stage: String,
    pub owner: String,
    pub channel: String,
    /// `ok` or `failed`.
    pub outcome: String,
    pub wait_seconds: f64,
    pub airport: String,
    pub order_id: String,
}

/// A survey answer. `score` is on the instrument's scale (grade: A = 4 … F = 0).
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseRow {
    pub customer_id: String,
    pub at: i64,
    pub instrument: String,
    pub score: f64,
    /// Empty when the answer is about the trip as a whole.
    pub touchpoint: String,
    pub comment: String,
    pub order_id: String,
}

/// An owner of touchpoints: `team`, `partner` or `external`.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnerRow {
    pub owner_id: String,
    pub name: String,
    pub kind: String,
    pub sla_hours: Option<f64>,
    pub contact: String,
}

/// One financial figure for a month (`period` is the first day, days since the epoch).
#[derive(Debug, Clone, PartialEq)]
pub struct FinancialRow {
    pub period: i32,
    pub metric: String,
    pub value: f64,
    pub currency: String,
}

/// A follow-up case the world's programme opened, worked as far as the observation goes
/// (see [`super::followup`]). Times are the event's (the case opens then), first contact
/// and resolution or closing; `outcome` is set once the case is done.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRow {
    /// The rule's index in the world's `followup.rules`, and the id its holdout draw used.
    pub rule: usize,
    pub rule_id: i64,
    /// [`crate::cases::event_key`] of the source event, as the product computes it.
    pub event_key: String,
    pub customer_id: String,
    pub at: i64,
    pub touchpoint: Option<String>,
    pub detail: String,
    pub owner: Option<String>,
    pub arm: crate::cases::Arm,
    pub outcome: Option<crate::cases::OutcomeKind>,
    /// A compensation's amount.
    pub amount: Option<f64>,
    pub contacted_at: Option<i64>,
    pub done_at: Option<i64>,
}

/// The planted truth of one comment (the NPS answer of its order): its language, the
/// topics it mentions and the personal data it carries.
#[derive(Debug, Clone, PartialEq)]
pub struct CommentRow {
    pub customer_id: String,
    pub order_id: String,
    /// The touchpoint whose answer it is on; empty for the trip's NPS answer.
    pub touchpoint: String,
    pub language: String,
    /// Topic names, in the order of the world's topics.
    pub topics: Vec<String>,
    /// Personal data as written (an e-mail address, a phone or a card number).
    pub personal: Option<String>,
}

/// Where a simulation sends its rows. Calls arrive in no particular table order.
pub trait Sink {
    fn customer(&mut self, row: CustomerRow);
    fn transaction(&mut self, row: TransactionRow);
    fn interaction(&mut self, row: InteractionRow);
    fn response(&mut self, row: ResponseRow);
    fn owner(&mut self, row: OwnerRow);
    fn financial(&mut self, row: FinancialRow);
    /// A case of the follow-up programme (not a table: the demo writes them to the
    /// operational database); dropped unless wanted.
    fn case(&mut self, _row: CaseRow) {}

    /// The truth of a comment written from templates (after its response).
    fn comment(&mut self, _row: CommentRow) {}
}

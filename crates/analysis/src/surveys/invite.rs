//! The interactions each invitation rule triggers on, as a DataFusion plan over the rows
//! interactions gained since the rule's watermark, narrowed to the rule's touchpoint and
//! customers — the rule's values enter as literals — handed to the store to decide.

use cxray_core::cases::event_key;
use cxray_core::domain::Table;
use cxray_store::Result;
use cxray_store::datafusion::arrow::datatypes::DataType;
use cxray_store::datafusion::common::{JoinType, ScalarValue};
use cxray_store::datafusion::prelude::{DataFrame, cast, col, lit};
use cxray_store::decode::Columns;
use cxray_store::ops::OpsDb;
use cxray_store::sql::{Sql, of_customers_meeting};
use cxray_store::surveys::{Candidate, Invited, StoredRule};
use serde::Serialize;

/// What a scan decided for one rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleInvited {
    pub rule: i64,
    pub name: String,
    /// The interactions' version the rule is now evaluated to.
    pub version: Option<u64>,
    #[serde(flatten)]
    pub invited: Invited,
}

/// Whether an enabled invitation rule exists: a commit to interactions is worth a scan.
pub fn watched(ops: &OpsDb) -> Result<bool> {
    Ok(ops.survey_rules()?.iter().any(|r| r.enabled))
}

/// Evaluates every enabled invitation rule on the interactions it has not seen, over the
/// session (unrestricted, at the tables' latest versions).
pub async fn scan(sql: &Sql, ops: &OpsDb) -> Result<Vec<RuleInvited>> {
    let key = ops.pseudonym_key()?;
    let version = sql.versions().get(&Table::Interactions).copied();
    let mut out = Vec::new();
    for rule in ops.survey_rules()?.into_iter().filter(|r| r.enabled) {
        let found = match sql.added_since(Table::Interactions, rule.watermark).await? {
            Some(rows) => triggered(sql, &rule, rows).await?,
            None => Vec::new(),
        };
        let invited = ops.invite(&rule, &found, version, &key)?;
        out.push(RuleInvited {
            rule: rule.id,
            name: rule.rule.name,
            version,
            invited,
        });
    }
    Ok(out)
}

/// `df` with the customer's `language` from customers, null when customers have no such
/// column.
async fn with_language(sql: &Sql, df: DataFrame) -> Result<DataFrame> {
    let customers = sql.context().table(Table::Customers.name()).await?;
    if customers
        .schema()
        .field_with_unqualified_name("language")
        .is_err()
    {
        return Ok(df.with_column("language", cast(lit(ScalarValue::Null), DataType::Utf8))?);
    }
    let languages = customers.select(vec![
        col("customer_id").alias("language_of"),
        col("language"),
    ])?;
    Ok(df.join(
        languages,
        JoinType::Left,
        &["customer_id"],
        &["language_of"],
        None,
    )?)
}

/// The interactions among `rows` at the rule's touchpoint, of its customers.
async fn triggered(sql: &Sql, rule: &StoredRule, rows: DataFrame) -> Result<Vec<Candidate>> {
    let touchpoint = rule.rule.touchpoint.as_str();
    let df = rows.filter(col("touchpoint").eq(lit(touchpoint)))?;
    let df = of_customers_meeting(sql, df, &rule.rule.customers).await?;
    let df = with_language(sql, df).await?.select(vec![
        col("customer_id"),
        cast(col("at"), DataType::Int64).alias("at_us"),
        col("language"),
    ])?;
    let mut out = Vec::new();
    for batch in df.collect().await? {
        let c = Columns::new(&batch);
        let (customer, at) = (c.text("customer_id")?, c.int("at_us")?);
        let language = c.text("language")?;
        for r in 0..c.rows() {
            let micros = at.int_at(r)?;
            let customer_id = customer.str(r).unwrap_or_default().to_string();
            let time = micros.to_string();
            out.push(Candidate {
                key: event_key(Table::Interactions, &[&customer_id, touchpoint, &time]),
                at: micros.div_euclid(1_000_000),
                customer_id,
                language: language.str(r).map(str::to_lowercase),
            });
        }
    }
    Ok(out)
}

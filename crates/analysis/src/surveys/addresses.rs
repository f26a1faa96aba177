//! Customers' e-mail addresses for a batch of invitations: one column of customers, read
//! for just those customers (their ids a filter of literals, never SQL text).

use std::collections::HashMap;

use cxray_core::domain::Table;
use cxray_store::datafusion::arrow::datatypes::DataType;
use cxray_store::datafusion::prelude::{cast, ident, lit};
use cxray_store::decode::Columns;
use cxray_store::sql::Sql;
use cxray_store::{Result, StoreError};

/// The non-empty values of customers' column `column` for `customers`, by customer; an
/// error naming the setting when customers have no such column (so no invitation is
/// taken for one without an address).
pub async fn addresses(
    sql: &Sql,
    column: &str,
    customers: &[String],
) -> Result<HashMap<String, String>> {
    let table = sql.context().table(Table::Customers.name()).await?;
    if table.schema().field_with_unqualified_name(column).is_err() {
        let why = format!("customers have no column '{column}' of e-mail addresses");
        return Err(StoreError::invalid("survey_email_column", why));
    }
    if customers.is_empty() {
        return Ok(HashMap::new());
    }
    let ids = customers.iter().map(|c| lit(c.as_str())).collect();
    let df = table
        .filter(ident("customer_id").in_list(ids, false))?
        .select(vec![
            ident("customer_id"),
            cast(ident(column), DataType::Utf8).alias("address"),
        ])?;
    let mut out = HashMap::new();
    for batch in df.collect().await? {
        let c = Columns::new(&batch);
        let (id, address) = (c.text("customer_id")?, c.text("address")?);
        for r in 0..c.rows() {
            if let (Some(id), Some(a)) = (id.str(r), address.str(r).map(str::trim))
                && !a.is_empty()
            {
                out.insert(id.to_string(), a.to_string());
            }
        }
    }
    Ok(out)
}

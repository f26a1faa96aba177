//! Initiatives in the operational database: added, listed, read and replaced, each change
//! audited. The fields are checked by `core::initiatives::Initiative::check`; what needs
//! the data (scope column and values, touchpoints, start dates) by the analysis layer
//! before anything is stored.

use std::collections::BTreeMap;

use crate::db::Value;
use crate::db::{Conn, OptionalExtension};
use chrono::NaiveDate;
use cxray_core::initiatives::{Initiative, Scope, Status};

use crate::ops::{OpsDb, audit, now_text, parse_column, parse_optional};
use crate::{Result, StoreError};

const COLUMNS: &str = "name, owner, touchpoints, scope_column, scope_values, start, starts, \
                       end_date, one_off_cost, running_cost, expected_effect, status, notes";

impl OpsDb {
    /// Records a new initiative, refused when its fields are wrong or its name (ignoring
    /// case) is taken. Audited.
    pub fn add_initiative(&self, actor: &str, i: &Initiative) -> Result<()> {
        checked(i)?;
        let tx = self.conn().write()?;
        if find(&tx, &i.name)?.is_some() {
            let message = format!("an initiative named '{}' exists already", i.name);
            return Err(StoreError::invalid("name", message));
        }
        let now = now_text();
        let mut values = values(i)?;
        values.extend([actor.to_string().into(), now.clone().into(), now.into()]);
        tx.execute(
            &format!(
                "INSERT INTO initiatives ({COLUMNS}, created_by, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
            ),
            values,
        )?;
        audit(&tx, actor, "add_initiative", &i.name)?;
        tx.commit()?;
        Ok(())
    }

    /// Replaces the initiative named `name` (ignoring case) by `i`, refused as for adding
    /// (a new name must be free). Audited.
    pub fn update_initiative(&self, actor: &str, name: &str, i: &Initiative) -> Result<()> {
        checked(i)?;
        let tx = self.conn().write()?;
        let id = find(&tx, name)?.ok_or_else(|| unknown(name))?;
        if find(&tx, &i.name)?.is_some_and(|other| other != id) {
            let message = format!("an initiative named '{}' exists already", i.name);
            return Err(StoreError::invalid("name", message));
        }
        let mut values = values(i)?;
        values.extend([now_text().into(), id.into()]);
        tx.execute(
            "UPDATE initiatives SET name = ?1, owner = ?2, touchpoints = ?3, scope_column = ?4,
             scope_values = ?5, start = ?6, starts = ?7, end_date = ?8, one_off_cost = ?9,
             running_cost = ?10, expected_effect = ?11, status = ?12, notes = ?13,
             updated_at = ?14 WHERE id = ?15",
            values,
        )?;
        audit(&tx, actor, "update_initiative", &i.name)?;
        tx.commit()?;
        Ok(())
    }

    /// Every initiative, by name.
    pub fn initiatives(&self) -> Result<Vec<Initiative>> {
        let all = self.recorded_initiatives()?;
        Ok(all.into_iter().map(|r| r.initiative).collect())
    }

    /// Every initiative with its id, by name.
    pub fn recorded_initiatives(&self) -> Result<Vec<Recorded>> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {COLUMNS}, id FROM initiatives ORDER BY name"
        ))?;
        let rows = stmt.query_map([], recorded)?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// The initiative with id `id`, if there is one.
    pub fn initiative_by_id(&self, id: i64) -> Result<Option<Recorded>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS}, id FROM initiatives WHERE id = ?1"),
                [id],
                recorded,
            )
            .optional()?)
    }

    /// The initiative named `name` (ignoring case); an error listing the names if none is.
    pub fn initiative(&self, name: &str) -> Result<Initiative> {
        let found = self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM initiatives WHERE name = ?1"),
                [name],
                read,
            )
            .optional()?;
        match found {
            Some(i) => Ok(i),
            None => {
                let names: Vec<String> = self.initiatives()?.into_iter().map(|i| i.name).collect();
                let list = if names.is_empty() {
                    "none recorded".to_string()
                } else {
                    names.join(", ")
                };
                Err(StoreError::Input(format!(
                    "no initiative named '{name}' (initiatives: {list})"
                )))
            }
        }
    }
}

/// An initiative with the id the database gave it (its address on the web).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Recorded {
    pub id: i64,
    #[serde(flatten)]
    pub initiative: Initiative,
}

/// A row of `COLUMNS` followed by the id.
fn recorded(r: &crate::db::Row) -> crate::db::DbResult<Recorded> {
    Ok(Recorded {
        initiative: read(r)?,
        id: r.get(13)?,
    })
}

fn checked(i: &Initiative) -> Result<()> {
    i.check()
        .map_err(|e| StoreError::invalid(e.field(), e.to_string()))
}

fn unknown(name: &str) -> StoreError {
    StoreError::Input(format!("no initiative named '{name}'"))
}

fn find(conn: &Conn, name: &str) -> Result<Option<i64>> {
    Ok(conn
        .query_row("SELECT id FROM initiatives WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .optional()?)
}

/// The initiative's values in the order of [`COLUMNS`].
fn values(i: &Initiative) -> Result<Vec<Value>> {
    let text = |t: Option<String>| t.map_or(Value::Null, Value::Text);
    Ok(vec![
        i.name.clone().into(),
        text(i.owner.clone()),
        json(&i.scope.touchpoints)?.into(),
        i.scope.column.clone().into(),
        json(&i.scope.values)?.into(),
        i.start.to_string().into(),
        json(&texts(&i.starts))?.into(),
        text(i.end.map(|d| d.to_string())),
        i.one_off_cost.into(),
        i.running_cost.into(),
        i.expected_effect.map_or(Value::Null, Value::Real),
        i.status.name().to_string().into(),
        i.notes.clone().into(),
    ])
}

fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    Ok(serde_json::to_string(value)?)
}

fn texts(starts: &BTreeMap<String, NaiveDate>) -> BTreeMap<&str, String> {
    starts
        .iter()
        .map(|(u, d)| (u.as_str(), d.to_string()))
        .collect()
}

fn read(r: &crate::db::Row) -> crate::db::DbResult<Initiative> {
    let list = |s: &str| serde_json::from_str::<Vec<String>>(s);
    let date = |s: &str| s.parse::<NaiveDate>();
    let starts = |s: &str| -> std::result::Result<BTreeMap<String, NaiveDate>, String> {
        let texts: BTreeMap<String, String> = serde_json::from_str(s).map_err(|e| e.to_string())?;
        texts
            .into_iter()
            .map(|(u, d)| Ok((u, d.parse::<NaiveDate>().map_err(|e| e.to_string())?)))
            .collect()
    };
    Ok(Initiative {
        name: r.get(0)?,
        owner: r.get(1)?,
        scope: Scope {
            touchpoints: parse_column(r, 2, list)?,
            column: r.get(3)?,
            values: parse_column(r, 4, list)?,
        },
        start: parse_column(r, 5, date)?,
        starts: parse_column(r, 6, starts)?,
        end: parse_optional(r, 7, str::parse)?,
        one_off_cost: r.get(8)?,
        running_cost: r.get(9)?,
        expected_effect: r.get(10)?,
        status: parse_column(r, 11, str::parse::<Status>)?,
        notes: r.get(12)?,
    })
}

/// The tests, on each backend of the operational database.
#[cfg(test)]
mod tests {
    crate::on_each_backend!("initiatives/tests.rs");
}

//! Who was invited to answer — every trip, or recorded invitations as the trips they
//! follow — and which of the two the data says ([`Invited::of_record`]).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use serde::Serialize;

use cxray_store::Result;
use cxray_store::ops::OpsDb;
use cxray_store::sql::Sql;

/// The invited population.
#[derive(Debug, Clone, PartialEq)]
pub enum Invited {
    /// Every trip counts as an invitation — what the demo world does, and the default when
    /// no invitations are recorded.
    EveryTrip,
    /// Recorded invitations; each invites the trip it follows (its customer's latest trip
    /// that had ended by the invitation's day). Trips invited twice count once.
    Listed(Vec<Invitation>),
}

/// One recorded invitation to answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Invitation {
    pub customer_id: String,
    pub at: DateTime<Utc>,
}

/// How the invited were chosen, as reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitedBy {
    EveryTrip,
    Invitations,
}

impl InvitedBy {
    /// The name for people.
    pub fn label(self) -> &'static str {
        match self {
            InvitedBy::EveryTrip => "every trip",
            InvitedBy::Invitations => "recorded invitations",
        }
    }
}

/// Which population to take as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Asked {
    /// The invitations sent once answers to them were collected, else every trip.
    #[default]
    AsRecorded,
    EveryTrip,
    /// The invitations sent, whether or not answers came through them.
    Sent,
}

impl Invited {
    /// The population `asked` names. As recorded, it is the invitations sent when cxray
    /// collected answers to them; answers imported from elsewhere follow no invitation of
    /// cxray's, so until then every trip counts as asked. Sent invitations fall back to
    /// every trip when there are none.
    pub fn of_record(ops: &OpsDb, asked: Asked) -> Result<Invited> {
        let listed = match asked {
            Asked::EveryTrip => false,
            Asked::Sent => true,
            Asked::AsRecorded => ops.invitations_answered()?,
        };
        if !listed {
            return Ok(Invited::EveryTrip);
        }
        let sent = ops.sent_invitations()?;
        Ok(match sent.is_empty() {
            true => Invited::EveryTrip,
            false => Invited::Listed(
                sent.into_iter()
                    .map(|(customer_id, at)| Invitation {
                        customer_id,
                        at: DateTime::from_timestamp(at, 0).unwrap_or_default(),
                    })
                    .collect(),
            ),
        })
    }

    pub fn by(&self) -> InvitedBy {
        match self {
            Invited::EveryTrip => InvitedBy::EveryTrip,
            Invited::Listed(_) => InvitedBy::Invitations,
        }
    }

    /// The session with the invitations registered as `invitations` (customer_id, day)
    /// when listed, and the invited trips as a relation over `trips`.
    pub(super) async fn register(&self, sql: Sql) -> Result<(Sql, &'static str)> {
        let Invited::Listed(list) = self else {
            return Ok((sql, "trips"));
        };
        let schema = Arc::new(Schema::new(vec![
            Field::new("customer_id", DataType::Utf8, false),
            Field::new("day", DataType::Int64, false),
        ]));
        let ids = StringArray::from_iter_values(list.iter().map(|i| i.customer_id.as_str()));
        let days =
            Int64Array::from_iter_values(list.iter().map(|i| i.at.timestamp().div_euclid(86_400)));
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(ids), Arc::new(days)])?;
        let table = MemTable::try_new(schema, vec![vec![batch]])?;
        let sql = sql.with_table("invitations", Arc::new(table)).await?;
        Ok((sql, INVITED_TRIPS))
    }
}

/// The trips some invitation follows: per invitation, its customer's latest trip that had
/// ended by its day.
const INVITED_TRIPS: &str = "(SELECT x.* FROM trips x JOIN (
    SELECT DISTINCT customer_id, trip FROM (
        SELECT i.customer_id, i.day, max(y.trip) AS trip FROM invitations i
        JOIN trips y ON CAST(y.customer_id AS VARCHAR) = i.customer_id AND y.end_day <= i.day
        GROUP BY i.customer_id, i.day)) v
    ON CAST(x.customer_id AS VARCHAR) = v.customer_id AND x.trip = v.trip)";

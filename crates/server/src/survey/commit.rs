//! Held answers past their grace period committed into `responses` through ingestion —
//! the API's durable path — one batch per answer under the idempotency key
//! `survey-answer-{id}`, then marked committed. A stop between the two sends the answer
//! again at the next round: ingestion knows the key and writes nothing twice.
//!
//! Rows: one per question — `customer_id` (the invitation's customer, or
//! `anonymous-{id}` for an answer through an anonymous link), `at` (received),
//! `instrument`, `score`, `touchpoint`, the `comment` on the NPS row (else the first
//! question's), and the attribute columns `survey` (its name) and `invitation_id`.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use cxray_core::domain::Table;
use cxray_core::stats::Instrument;
use cxray_store::ingest::{Client, Ingest, IngestError};
use cxray_store::surveys::HeldAnswer;
use cxray_store::{DataFolder, StoreError};
use serde_json::json;
use tokio::task::JoinSet;

use crate::leader::Leadership;
use crate::reports::db;

/// Answers sent at once (their log writes share syncs).
const AT_ONCE: usize = 64;

/// Commits the due answers every `every` until the task is dropped.
pub(crate) fn keep_committing(
    folder: DataFolder,
    ingest: Arc<Ingest>,
    every: Duration,
    leadership: Arc<Leadership>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            leadership.until_leading().await;
            if let Err(e) = commit_due(&folder, &ingest).await {
                tracing::error!("survey answers: {e}");
            }
            tokio::time::sleep(every).await;
        }
    })
}

/// Why a round stopped.
#[derive(Debug, thiserror::Error)]
enum CommitError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("not committed yet: {0}")]
    Ingest(IngestError),
}

/// Sends every answer due now, in groups; answers ingestion refuses for good are set
/// aside with the reason. Returns how many were committed.
async fn commit_due(folder: &DataFolder, ingest: &Arc<Ingest>) -> Result<usize, CommitError> {
    let mut committed = 0;
    loop {
        let now = Utc::now().timestamp();
        let due = db(folder, move |ops| ops.due_answers(now, AT_ONCE)).await?;
        let full = due.len() == AT_ONCE;
        let mut sending = JoinSet::new();
        for answer in due {
            let ingest = ingest.clone();
            sending.spawn(async move { (answer.id, send(&ingest, &answer).await) });
        }
        let (mut done, mut refused, mut failed) = (Vec::new(), Vec::new(), None);
        while let Some(joined) = sending.join_next().await {
            let Ok((id, sent)) = joined else { continue };
            match sent {
                Ok(_) => done.push(id),
                Err(IngestError::Rejected(rows)) => {
                    let why = rows
                        .listed
                        .first()
                        .map_or(String::new(), |r| r.reason.clone());
                    refused.push((id, why));
                }
                Err(IngestError::KeyReused) => {
                    refused.push((id, IngestError::KeyReused.to_string()))
                }
                Err(e) => failed = Some(e),
            }
        }
        committed += done.len();
        db(folder, move |ops| {
            ops.mark_answers_committed(&done, Utc::now().timestamp())?;
            for (id, why) in &refused {
                tracing::error!(answer = id, "survey answer refused by ingestion: {why}");
                ops.refuse_answer(*id, why)?;
            }
            Ok(())
        })
        .await?;
        if let Some(e) = failed {
            return Err(CommitError::Ingest(e));
        }
        if !full {
            return Ok(committed);
        }
    }
}

/// One answer into `responses`: durable when this returns.
async fn send(ingest: &Ingest, answer: &HeldAnswer) -> Result<(), IngestError> {
    let client = Client {
        actor: "survey page".into(),
        id: "survey-page".into(),
    };
    let key = format!("survey-answer-{}", answer.id);
    ingest
        .ingest(
            Table::Responses,
            Some(key),
            client,
            rows(answer).into_bytes(),
        )
        .await
        .map(|_| ())
}

/// The answer's rows as NDJSON.
fn rows(a: &HeldAnswer) -> String {
    let customer = a
        .customer_id
        .clone()
        .unwrap_or_else(|| format!("anonymous-{}", a.id));
    let at = DateTime::<Utc>::from_timestamp(a.received_at, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true);
    let with_comment = a
        .scores
        .iter()
        .position(|(q, _)| *q == Instrument::Nps)
        .unwrap_or(0);
    let mut out = String::new();
    for (i, (q, score)) in a.scores.iter().enumerate() {
        let mut row = json!({
            "customer_id": customer,
            "at": at,
            "instrument": q.name(),
            "score": score,
            "survey": a.survey,
        });
        if let Some(t) = &a.touchpoint {
            row["touchpoint"] = json!(t);
        }
        // Null for an anonymous answer: the column is there for every survey answer.
        row["invitation_id"] = json!(a.invitation_id.map(|id| id.to_string()));
        if i == with_comment && !a.comment.is_empty() {
            row["comment"] = json!(a.comment);
        }
        out.push_str(&row.to_string());
        out.push('\n');
    }
    out
}

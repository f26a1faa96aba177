//! Which comments an analysis reads: a session whose `responses` are narrowed to answers
//! about some touchpoints (an owner's, or one chosen) and to a band of scores, so that
//! [`super::sentiment`], [`super::terms`], [`super::topics`] and [`super::examples`] run
//! unchanged on the narrower set. The values enter the plan as literals.

use std::collections::BTreeSet;

use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::{Expr, cast, ident, lit};
use serde::Serialize;

use cxray_core::domain::Table;
use cxray_store::Result;
use cxray_store::sql::Sql;

/// A band of scores: the NPS groups of the answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// NPS 9–10.
    Promoters,
    /// NPS 7–8.
    Passives,
    /// NPS 0–6.
    Detractors,
}

impl Band {
    pub const ALL: [Band; 3] = [Band::Promoters, Band::Passives, Band::Detractors];

    /// The name the API takes.
    pub fn name(self) -> &'static str {
        match self {
            Band::Promoters => "promoters",
            Band::Passives => "passives",
            Band::Detractors => "detractors",
        }
    }

    /// The band's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Band::Promoters => "Promoters (NPS 9–10)",
            Band::Passives => "Passives (NPS 7–8)",
            Band::Detractors => "Detractors (NPS 0–6)",
        }
    }

    /// Its lowest and highest NPS score.
    fn scores(self) -> (f64, f64) {
        match self {
            Band::Promoters => (9.0, 10.0),
            Band::Passives => (7.0, 8.0),
            Band::Detractors => (0.0, 6.0),
        }
    }
}

/// The comments an analysis reads: of every touchpoint (none listed) or of those listed
/// only (an answer about no touchpoint then is left out), of any score or of one band.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CommentScope {
    pub touchpoints: Option<BTreeSet<String>>,
    pub band: Option<Band>,
}

impl CommentScope {
    /// Whether the scope reads every comment.
    pub fn is_all(&self) -> bool {
        self.touchpoints.is_none() && self.band.is_none()
    }

    fn predicate(&self) -> Option<Expr> {
        let touchpoints = self.touchpoints.as_ref().map(|tps| match tps.is_empty() {
            true => lit(false),
            false => ident("touchpoint").in_list(tps.iter().map(lit).collect(), false),
        });
        let band = self.band.map(|b| {
            let (low, high) = b.scores();
            let score = cast(ident("score"), DataType::Float64);
            ident("instrument")
                .eq(lit("nps"))
                .and(score.clone().gt_eq(lit(low)))
                .and(score.lt_eq(lit(high)))
        });
        [touchpoints, band].into_iter().flatten().reduce(Expr::and)
    }
}

/// A private copy of the session whose `responses` hold only the scope's answers (the
/// session itself when the scope reads every comment).
pub async fn narrowed(sql: &Sql, scope: &CommentScope) -> Result<Option<Sql>> {
    let Some(predicate) = scope.predicate() else {
        return Ok(None);
    };
    let name = Table::Responses.name();
    let responses = sql.context().table(name).await?.filter(predicate)?;
    Ok(Some(sql.with_table(name, responses.into_view()).await?))
}

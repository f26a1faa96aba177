//! The board pack: one period's scorecard, the weak areas, the journey map and the
//! follow-up cases opened in the period as one printable document (A4 landscape, each section on its own page), made by the same page
//! functions as the pages. `cxray report` prints it to PDF; `/report` serves it.

use chrono::NaiveDate;
use cxray_analysis::board::Cadence;
use cxray_analysis::journey::Journey;
use cxray_analysis::scorecard::Scorecard;
use cxray_analysis::snapshot::Snapshot;
use cxray_core::targets::Period;
use cxray_store::StoreError;
use cxray_store::cases::CaseMonth;
use cxray_store::ops::OpsDb;
use cxray_store::targets::Target;

use crate::html::{Layout, escape, missing, page};

/// Why there is no pack.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// The period is not a month, quarter or year as targets name them.
    #[error("{0}")]
    BadPeriod(String),
    #[error("period '{period}' begins after the data's last day, {as_of}")]
    AfterData { period: Period, as_of: NaiveDate },
    /// The scorecard could not be computed (the reason).
    #[error("no scorecard: {0}")]
    NoScorecard(String),
}

/// What the pack takes from the operational database: the targets, and the followed-up
/// cases by month and owner.
pub struct Records {
    pub targets: Vec<Target>,
    pub cases: Vec<CaseMonth>,
}

impl Records {
    pub fn of(ops: &OpsDb) -> Result<Records, StoreError> {
        Ok(Records {
            targets: ops.targets()?,
            cases: ops.case_months()?,
        })
    }
}

/// One printed page of the pack: its id (`pack-…`), title and body.
struct Section {
    id: &'static str,
    title: &'static str,
    body: String,
}

/// The period asked for (a month 2025-03, a quarter 2025-Q2 or a year 2025), by default
/// the quarter of the data's last day; refused if it begins after that day.
fn period(asked: Option<&str>, card: &Scorecard) -> Result<Period, PackError> {
    let as_of = card
        .as_of
        .ok_or_else(|| PackError::NoScorecard("no purchases in the data".into()))?;
    let period: Period = match asked {
        Some(text) => text.parse(),
        None => Cadence::Quarter.name(Cadence::Quarter.start(as_of)).parse(),
    }
    .map_err(PackError::BadPeriod)?;
    match Cadence::of(&period).1 > as_of {
        true => Err(PackError::AfterData { period, as_of }),
        false => Ok(period),
    }
}

/// The pack's sections: the follow-up cases only once there were any; initiatives add
/// theirs here.
fn sections(
    card: &Scorecard,
    journey: Result<&Journey, &str>,
    records: &Records,
    period: &Period,
) -> Vec<Section> {
    let (cadence, _) = Cadence::of(period);
    let one_period = Scorecard {
        boards: vec![card.board_for(period)],
        ..card.clone()
    };
    let from_journey = |what: &str, body: fn(&Journey) -> String| match journey {
        Ok(j) => body(j),
        Err(why) => missing(what, why),
    };
    let mut sections = vec![
        Section {
            id: "pack-scorecard",
            title: "Scorecard",
            body: super::scorecard::render(
                &one_period,
                &records.targets,
                (cadence, None),
                ("", ""),
            ),
        },
        Section {
            id: "pack-weak-areas",
            title: "Weak areas",
            body: from_journey("The weak-area map", super::journey::render_areas),
        },
        Section {
            id: "pack-journey-map",
            title: "Journey map",
            body: from_journey("The journey map", super::journey_map::render),
        },
    ];
    let cases = super::pack_cases::render(&records.cases, period).map(|body| Section {
        id: "pack-cases",
        title: "Follow-up cases",
        body,
    });
    sections.extend(cases);
    sections
}

/// The pack of a snapshot for the period `asked` (see [`period`]) as one HTML document.
pub fn render(s: &Snapshot, records: &Records, asked: Option<&str>) -> Result<String, PackError> {
    let card = s
        .scorecard
        .as_ref()
        .map_err(|e| PackError::NoScorecard(e.message.clone()))?;
    let period = period(asked, card)?;
    let journey = s.journey.as_ref().map_err(|e| e.message.as_str());
    let sections = sections(card, journey, records, &period);
    let as_of = card.as_of.map(|d| format!("Data as of {d}"));
    Ok(document(&period, as_of, &sections))
}

/// The sections as one document: the layout without navigation, a page per section.
fn document(period: &Period, as_of: Option<String>, sections: &[Section]) -> String {
    let body: String = sections
        .iter()
        .map(|s| {
            format!(
                "<section class=\"pack\" id=\"{}\"><h2>{}</h2>{}</section>",
                s.id,
                escape(s.title),
                s.body
            )
        })
        .collect();
    let layout = Layout {
        path: "",
        nav: Vec::new(),
        user: None,
        as_of,
    };
    page(&layout, &format!("Board pack {period}"), &body)
}

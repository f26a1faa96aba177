//! The figures of one group of respondents: satisfied defectors, the report-card
//! quadrant, retention and value by score group, and the prediction of defection.

use cxray_core::stats::{
    Estimate, Instrument, Scale, Settings, Summary, expected_share, mean, share,
};

use super::respondents::Respondent;
use super::{Link, QuadrantCell, RetentionPoint, ScoreGroup};

/// Days after the answer at which the retention curves are read.
pub const RETENTION_DAYS: [i64; 12] = [30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 330, 360];

/// A respondent with what the analysis decided about them.
#[derive(Clone, Copy)]
pub(super) struct Case<'a> {
    pub r: &'a Respondent,
    pub satisfied: bool,
    pub defected: bool,
    /// The behavioural model's expected purchases in the window after the answer.
    pub expected: Option<f64>,
}

/// Whether a score counts as satisfied: NPS ≥ 7, CSAT ≥ 4, CES ≤ 4, grade ≥ C.
pub(crate) fn satisfied(instrument: Instrument, score: f64) -> bool {
    match instrument {
        Instrument::Nps => score >= 7.0,
        Instrument::Csat => score >= 4.0,
        Instrument::Ces => score <= 4.0,
        Instrument::Grade => score >= 2.0,
    }
}

/// The score group a score belongs to: NPS groups, grade letters, or the score itself.
pub(super) fn score_group(instrument: Instrument, score: f64) -> String {
    match instrument {
        Instrument::Nps if score >= 9.0 => "promoter".into(),
        Instrument::Nps if score >= 7.0 => "passive".into(),
        Instrument::Nps => "detractor".into(),
        Instrument::Grade => ["F", "D", "C", "B", "A"][score.clamp(0.0, 4.0) as usize].into(),
        _ => format!("{score}"),
    }
}

/// Everything about one group of cases.
pub(super) fn summarise(
    group: Option<String>,
    instrument: Instrument,
    cases: &[Case<'_>],
    data_end_day: i64,
    s: &Settings,
) -> Link {
    let count = |f: &dyn Fn(&Case) -> bool| cases.iter().filter(|c| f(c)).count() as u64;
    let defectors = count(&|c| c.defected);
    let n_satisfied = count(&|c| c.satisfied);
    Link {
        group,
        respondents: cases.len() as u64,
        defectors,
        satisfied_defector_share: share(count(&|c| c.defected && c.satisfied), defectors, s),
        defection_if_satisfied: share(count(&|c| c.defected && c.satisfied), n_satisfied, s),
        defection_if_dissatisfied: share(
            count(&|c| c.defected && !c.satisfied),
            cases.len() as u64 - n_satisfied,
            s,
        ),
        quadrant: quadrant(cases),
        by_score: by_score(instrument, cases, data_end_day, s),
        prediction: super::prediction::predict(instrument, cases, s),
    }
}

/// Said satisfied or not × stayed or defected, with customers and money in each cell.
fn quadrant(cases: &[Case<'_>]) -> Vec<QuadrantCell> {
    let mut cells = Vec::new();
    for satisfied in [true, false] {
        for defected in [false, true] {
            let members: Vec<&Case> = cases
                .iter()
                .filter(|c| c.satisfied == satisfied && c.defected == defected)
                .collect();
            let clvs: Vec<f64> = members.iter().filter_map(|c| c.r.clv).collect();
            cells.push(QuadrantCell {
                satisfied,
                defected,
                customers: members.len() as u64,
                revenue: members.iter().map(|c| c.r.revenue).sum(),
                clv: (!clvs.is_empty()).then(|| clvs.iter().sum()),
            });
        }
    }
    cells
}

/// Per score group: defection, the retention curve after the answer, mean P(alive) and CLV.
fn by_score(
    instrument: Instrument,
    cases: &[Case<'_>],
    data_end_day: i64,
    s: &Settings,
) -> Vec<ScoreGroup> {
    let mut groups: Vec<(String, Vec<&Case>)> = Vec::new();
    let mut sorted: Vec<&Case> = cases.iter().collect();
    sorted.sort_by(|a, b| a.r.score.total_cmp(&b.r.score));
    for c in sorted {
        let name = score_group(instrument, c.r.score);
        match groups.last_mut() {
            Some((g, members)) if *g == name => members.push(c),
            _ => groups.push((name, vec![c])),
        }
    }
    groups
        .into_iter()
        .map(|(group, members)| ScoreGroup {
            group,
            respondents: members.len() as u64,
            defection: share(
                members.iter().filter(|c| c.defected).count() as u64,
                members.len() as u64,
                s,
            ),
            retention: retention(&members, data_end_day, s),
            alive: expected_alive(members.iter().filter_map(|c| c.r.p_alive), s),
            mean_clv: mean_of(members.iter().filter_map(|c| c.r.clv), Scale::Amount, s),
        })
        .collect()
}

/// The share still buying after each of [`RETENTION_DAYS`]: of those answering at least
/// that long before the end of the data, the share with a purchase later than that.
fn retention(members: &[&Case<'_>], data_end_day: i64, s: &Settings) -> Vec<RetentionPoint> {
    RETENTION_DAYS
        .iter()
        .filter_map(|&days| {
            let at_risk: Vec<&&Case> = members
                .iter()
                .filter(|c| c.r.day + days <= data_end_day)
                .collect();
            let retained = at_risk
                .iter()
                .filter(|c| c.r.last_purchase.is_some_and(|l| l > c.r.day + days))
                .count() as u64;
            let share = share(retained, at_risk.len() as u64, s)?;
            Some(RetentionPoint { days, share })
        })
        .collect()
}

/// The share expected still to be customers given each one's P(alive); none without.
fn expected_alive(p_alive: impl Iterator<Item = f64>, s: &Settings) -> Option<Estimate> {
    expected_share(&p_alive.collect::<Vec<_>>(), s).ok()
}

/// The mean with its t interval; none without values.
fn mean_of(values: impl Iterator<Item = f64>, scale: Scale, s: &Settings) -> Option<Estimate> {
    let values: Vec<f64> = values.collect();
    mean(&Summary::from_values(&values).ok()?, scale, s).ok()
}

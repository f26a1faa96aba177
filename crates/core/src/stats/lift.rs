//! Lift table: event rates by quantile group of a score (deciles for 10 groups).

use super::StatsError;
use super::auc::{ascending, check_cases};
use serde::Serialize;

/// One group of a lift table; group 1 holds the highest scores.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LiftRow {
    pub group: usize,
    pub min_score: f64,
    pub max_score: f64,
    pub n: u64,
    pub events: u64,
    /// Event rate in the group, percent.
    pub rate: f64,
    /// The group's rate over the overall rate.
    pub lift: f64,
    /// Share of all events in this group and the ones above it, percent.
    pub cumulative_capture: f64,
}

/// The lift table of `scores` for `events` (higher scores should mean events; negate a
/// satisfaction score to predict defection). Cases are ranked by score, highest first, and
/// cut into `groups` equal groups by rank; tied scores stay together in the group where their
/// block starts, so with coarse scores groups differ in size and empty ones are left out.
/// Needs both events and non-events. O(n log n).
pub fn lift_table(
    scores: &[f64],
    events: &[bool],
    groups: usize,
) -> Result<Vec<LiftRow>, StatsError> {
    let (total_events, _) = check_cases(scores, events)?;
    if groups == 0 {
        return Err(StatsError::NoGroups);
    }
    let mut order = ascending(scores);
    order.reverse();
    let mut rows: Vec<LiftRow> = Vec::new();
    let mut start = 0;
    for block in order.chunk_by(|&i, &j| scores[i] == scores[j]) {
        let group = start * groups / scores.len() + 1;
        let hits = block.iter().filter(|&&i| events[i]).count() as u64;
        let score = scores[block[0]];
        match rows.last_mut() {
            Some(row) if row.group == group => {
                row.n += block.len() as u64;
                row.events += hits;
                row.min_score = score;
            }
            _ => rows.push(LiftRow {
                group,
                min_score: score,
                max_score: score,
                n: block.len() as u64,
                events: hits,
                rate: 0.0,
                lift: 0.0,
                cumulative_capture: 0.0,
            }),
        }
        start += block.len();
    }
    let overall = total_events as f64 / scores.len() as f64;
    let mut captured = 0;
    for row in &mut rows {
        captured += row.events;
        let rate = row.events as f64 / row.n as f64;
        row.rate = 100.0 * rate;
        row.lift = rate / overall;
        row.cumulative_capture = 100.0 * captured as f64 / total_events as f64;
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deciles_of_distinct_scores() {
        // Scores 1…100; events are the cases scored 91…100 and 1…10: the top decile has
        // rate 100%, lift 100/20 = 5 and captures half the events; deciles 2–9 none; the
        // bottom decile the other half.
        let scores: Vec<f64> = (1..=100).map(f64::from).collect();
        let events: Vec<bool> = scores
            .iter()
            .map(|&s| !(11.0..=90.0).contains(&s))
            .collect();
        let rows = lift_table(&scores, &events, 10).unwrap();
        assert_eq!(rows.len(), 10);
        let top = rows[0];
        assert_eq!((top.group, top.n, top.events), (1, 10, 10));
        assert_eq!((top.min_score, top.max_score), (91.0, 100.0));
        assert_eq!(
            (top.rate, top.lift, top.cumulative_capture),
            (100.0, 5.0, 50.0)
        );
        assert_eq!((rows[5].events, rows[5].cumulative_capture), (0, 50.0));
        assert_eq!((rows[9].lift, rows[9].cumulative_capture), (5.0, 100.0));
        assert_eq!(rows.iter().map(|r| r.n).sum::<u64>(), 100);
    }

    #[test]
    fn ties_stay_in_one_group() {
        // Negated NPS scores (low scores predict defection): 0 ×4 (3 defect), 5 ×2 (1),
        // 9 ×4 (0). Ten cases in five groups: the block of 0s starts at rank 0 (group 1),
        // the 5s at rank 4 (group 3), the 9s at rank 6 (group 4).
        let nps = [0.0, 0.0, 0.0, 0.0, 5.0, 5.0, 9.0, 9.0, 9.0, 9.0];
        let defected = [
            true, true, true, false, true, false, false, false, false, false,
        ];
        let neg: Vec<f64> = nps.iter().map(|x| -x).collect();
        let rows = lift_table(&neg, &defected, 5).unwrap();
        let got: Vec<(usize, u64, u64)> = rows.iter().map(|r| (r.group, r.n, r.events)).collect();
        assert_eq!(got, [(1, 4, 3), (3, 2, 1), (4, 4, 0)]);
        // Overall rate 40%: group 1 has 75%, lift 1.875, capture 75%.
        assert_eq!((rows[0].rate, rows[0].cumulative_capture), (75.0, 75.0));
        assert!((rows[0].lift - 1.875).abs() < 1e-12);
    }

    #[test]
    fn bad_input() {
        assert_eq!(
            lift_table(&[1.0, 2.0], &[true, false], 0),
            Err(StatsError::NoGroups)
        );
        assert!(matches!(
            lift_table(&[1.0, 2.0], &[false, false], 10),
            Err(StatsError::OneClass { .. })
        ));
    }
}

//! A unit × period panel: each unit's outcome per period and the period its treatment
//! began, checked row by row.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::InitiativeError;

/// One row of a panel as given: the unit, the period (a number in time order: a year, a
/// quarter's number, a day), the outcome and the first treated period (none if never).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub unit: String,
    pub period: i64,
    pub outcome: f64,
    pub treated_from: Option<i64>,
}

/// One observation: indices of its unit and period, its outcome.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Cell {
    pub unit: usize,
    pub period: usize,
    pub y: f64,
}

/// A checked panel. Units and periods are sorted; each unit's adoption is the index of
/// its first treated period, `None` for units untreated throughout the data (never
/// treated, or from after its last period). Units treated from the first period on have
/// no period before it and are left out (`always_treated`).
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    units: Vec<String>,
    periods: Vec<i64>,
    cells: Vec<Cell>,
    adoption: Vec<Option<usize>>,
    always_treated: Vec<String>,
}

impl Panel {
    /// The panel of `rows`: refused when empty, on an outcome that is not a finite number,
    /// a unit's period given twice, or a unit with two different starts (rows numbered
    /// from 1).
    pub fn new(rows: &[Row]) -> Result<Panel, InitiativeError> {
        if rows.is_empty() {
            return Err(InitiativeError::NoRows);
        }
        let mut starts: BTreeMap<&str, Option<i64>> = BTreeMap::new();
        let mut seen = HashSet::new();
        for (i, r) in rows.iter().enumerate() {
            let row = i + 1;
            if !r.outcome.is_finite() {
                return Err(InitiativeError::NonFinite {
                    row,
                    unit: r.unit.clone(),
                    period: r.period,
                });
            }
            if !seen.insert((r.unit.as_str(), r.period)) {
                return Err(InitiativeError::Duplicate {
                    row,
                    unit: r.unit.clone(),
                    period: r.period,
                });
            }
            let earlier = *starts.entry(&r.unit).or_insert(r.treated_from);
            if earlier != r.treated_from {
                let text = |s: Option<i64>| s.map_or("none".to_string(), |p| p.to_string());
                return Err(InitiativeError::TreatedFrom {
                    row,
                    unit: r.unit.clone(),
                    given: text(r.treated_from),
                    earlier: text(earlier),
                });
            }
        }
        let periods: Vec<i64> = rows
            .iter()
            .map(|r| r.period)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let first = periods[0];
        let (always, kept): (Vec<_>, Vec<_>) = starts
            .into_iter()
            .partition(|(_, start)| start.is_some_and(|s| s <= first));
        let units: Vec<String> = kept.iter().map(|(u, _)| u.to_string()).collect();
        let adoption = kept
            .iter()
            .map(|(_, start)| {
                start
                    .map(|s| periods.partition_point(|&p| p < s))
                    .filter(|&i| i < periods.len())
            })
            .collect();
        let index: BTreeMap<&str, usize> = units
            .iter()
            .enumerate()
            .map(|(i, u)| (u.as_str(), i))
            .collect();
        let mut cells: Vec<Cell> = rows
            .iter()
            .filter_map(|r| {
                let unit = *index.get(r.unit.as_str())?;
                let period = periods.binary_search(&r.period).ok()?;
                Some(Cell {
                    unit,
                    period,
                    y: r.outcome,
                })
            })
            .collect();
        cells.sort_by_key(|c| (c.unit, c.period));
        Ok(Panel {
            units,
            periods,
            cells,
            adoption,
            always_treated: always.into_iter().map(|(u, _)| u.to_string()).collect(),
        })
    }

    /// The units' names, sorted.
    pub fn units(&self) -> &[String] {
        &self.units
    }

    /// The periods, in order.
    pub fn periods(&self) -> &[i64] {
        &self.periods
    }

    /// Units treated from the first period on, left out.
    pub fn always_treated(&self) -> &[String] {
        &self.always_treated
    }

    pub(crate) fn cells(&self) -> &[Cell] {
        &self.cells
    }

    /// The index of unit `u`'s first treated period.
    pub(crate) fn adoption(&self, u: usize) -> Option<usize> {
        self.adoption[u]
    }

    /// Whether cell `c` is treated.
    pub(crate) fn treated(&self, c: &Cell) -> bool {
        self.adoption[c.unit].is_some_and(|g| c.period >= g)
    }

    /// The distinct adoption periods' indices, in order.
    pub(crate) fn cohorts(&self) -> Vec<usize> {
        let set: BTreeSet<usize> = self.adoption.iter().flatten().copied().collect();
        set.into_iter().collect()
    }

    /// The units treated within the data.
    pub(crate) fn treated_units(&self) -> Vec<usize> {
        (0..self.units.len())
            .filter(|&u| self.adoption[u].is_some())
            .collect()
    }

    /// The units untreated throughout the data.
    pub(crate) fn untreated_units(&self) -> Vec<usize> {
        (0..self.units.len())
            .filter(|&u| self.adoption[u].is_none())
            .collect()
    }

    /// Each unit's outcome by period (`None` where missing).
    pub(crate) fn wide(&self) -> Vec<Vec<Option<f64>>> {
        let mut wide = vec![vec![None; self.periods.len()]; self.units.len()];
        for c in &self.cells {
            wide[c.unit][c.period] = Some(c.y);
        }
        wide
    }

    /// The panel before period index `end`, with the units adopting at or after it
    /// untreated: the last-treated cohort as the control of the earlier ones.
    pub(crate) fn before(&self, end: usize) -> Panel {
        Panel {
            units: self.units.clone(),
            periods: self.periods[..end].to_vec(),
            cells: self
                .cells
                .iter()
                .filter(|c| c.period < end)
                .copied()
                .collect(),
            adoption: self
                .adoption
                .iter()
                .map(|a| a.filter(|&g| g < end))
                .collect(),
            always_treated: self.always_treated.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn row(unit: &str, period: i64, outcome: f64, treated_from: Option<i64>) -> Row {
        Row {
            unit: unit.into(),
            period,
            outcome,
            treated_from,
        }
    }

    #[test]
    fn adoption_is_the_first_period_at_or_after_the_start() {
        let rows = [
            row("b", 2, 1.0, Some(3)),
            row("b", 4, 1.0, Some(3)),
            row("a", 2, 1.0, None),
            row("a", 4, 1.0, None),
            row("c", 2, 1.0, Some(9)),
            row("d", 2, 1.0, Some(1)),
        ];
        let p = Panel::new(&rows).unwrap();
        assert_eq!(p.units(), ["a", "b", "c"]);
        assert_eq!(p.periods(), [2, 4]);
        assert_eq!(p.always_treated(), ["d"]);
        assert_eq!(
            (p.adoption(0), p.adoption(1), p.adoption(2)),
            (None, Some(1), None)
        );
        assert_eq!(p.cohorts(), [1]);
        assert_eq!(p.cells().len(), 5);
        assert!(p.treated(&p.cells()[3]) && !p.treated(&p.cells()[2]));
        let early = p.before(1);
        assert_eq!((early.periods(), early.adoption(1)), (&[2][..], None));
    }

    #[test]
    fn bad_rows_are_named() {
        let ok = row("a", 1, 1.0, None);
        let err = |bad: Row| Panel::new(&[ok.clone(), bad]).unwrap_err().to_string();
        assert_eq!(
            err(row("a", 1, 2.0, None)),
            "row 2: unit 'a' has period 1 twice"
        );
        assert_eq!(
            err(row("a", 2, 2.0, Some(5))),
            "row 2: unit 'a' has treated_from 5, but none in an earlier row (one start per unit)"
        );
        assert_eq!(
            err(row("b", 2, f64::NAN, None)),
            "row 2: outcome of unit 'b' in period 2 is not a finite number"
        );
        assert_eq!(Panel::new(&[]), Err(InitiativeError::NoRows));
    }

    proptest! {
        /// Any non-finite outcome anywhere is refused with its row.
        #[test]
        fn non_finite_outcomes_are_refused(
            n in 1..20usize,
            at in 0..20usize,
            bad in prop::sample::select(vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY]),
        ) {
            let at = at % n;
            let rows: Vec<Row> = (0..n)
                .map(|i| row("u", i as i64, if i == at { bad } else { 1.0 }, None))
                .collect();
            let refused = matches!(
                Panel::new(&rows),
                Err(InitiativeError::NonFinite { row, .. }) if row == at + 1
            );
            prop_assert!(refused);
        }
    }
}

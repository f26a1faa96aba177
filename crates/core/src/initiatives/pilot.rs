//! A randomized pilot: units assigned at random to the change, compared by their mean
//! outcome after the start, adjusted by CUPED for their mean before it
//! ([`crate::stats::cuped_difference`]).

use crate::stats::{Cuped, Paired, Settings, StatsError, cuped_difference};

use super::panel::Panel;

/// Treated against untreated units' post-period means with the pre-period means as the
/// covariate, the start at period index `start`; units without a period on each side
/// are left out.
pub(crate) fn pilot(panel: &Panel, start: usize, s: &Settings) -> Result<Cuped, StatsError> {
    let (mut treated, mut control) = (Paired::default(), Paired::default());
    for (u, series) in panel.wide().iter().enumerate() {
        let mean = |part: &[Option<f64>]| {
            let v: Vec<f64> = part.iter().flatten().copied().collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        };
        let (Some(before), Some(after)) = (mean(&series[..start]), mean(&series[start..])) else {
            continue;
        };
        let arm = if panel.adoption(u).is_some() {
            &mut treated
        } else {
            &mut control
        };
        arm.push(after, before);
    }
    cuped_difference(&treated, &control, s)
}

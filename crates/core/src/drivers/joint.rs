//! The driver analysis and the dropout model of the same trips, bootstrapped together:
//! each resample is drawn once and both are fitted to it. The results are those of
//! bootstrapping each on its own with the same options.

use super::analysis::{Analysis, Fitted};
use super::bootstrap::resample_rows;
use super::dropout::{DropoutFit, DropoutModel, DropoutPrior, TripContext};
use super::{Dataset, DriverError, Options};

/// [`super::analyse`] of `data` and [`super::fit_dropout`] of `dropout`, whose rows and
/// weights must be `data`'s (its predictors may differ), on shared resamples.
pub fn analyse_with_dropout(
    data: &Dataset,
    dropout: &Dataset,
    trips: &[TripContext],
    prior: DropoutPrior,
    options: &Options,
) -> Result<(Analysis, DropoutFit), DriverError> {
    if dropout.outcome.len() != data.outcome.len() || dropout.weights != data.weights {
        return Err(DriverError::Dropout(
            "its rows are not those of the driver analysis",
        ));
    }
    let analysis = Fitted::new(data, options)?;
    let model = DropoutModel::new(dropout, trips, prior)?;
    let draws = resample_rows(data, options, analysis.batch(), |counts| {
        let stats = analysis.draws(counts);
        stats
            .into_iter()
            .zip(counts)
            .map(|(s, c)| (s, model.draw(c)))
            .collect()
    });
    let (stats, thetas) = draws.into_iter().unzip();
    Ok((
        analysis.finish(stats, options),
        model.finish(thetas, options),
    ))
}

//! Choosing a transaction model by kind: fitting it, or rebuilding it from a stored fit.

use super::{
    BgNbd, Fit, FitOptions, MbgNbd, ModelError, ModelKind, ParetoNbd, Rfm, TransactionModel,
};

/// A fitted transaction model of any kind.
pub type AnyTransactionModel = Box<dyn TransactionModel + Send + Sync>;

/// Fits the transaction model `kind` (BG/NBD, MBG/NBD or Pareto/NBD) to patterns.
pub fn fit_transactions(
    kind: ModelKind,
    data: &[Rfm],
    opts: &FitOptions,
) -> Result<(AnyTransactionModel, Fit), ModelError> {
    fn boxed<M: TransactionModel + Send + Sync + 'static>(
        fitted: Result<(M, Fit), ModelError>,
    ) -> Result<(AnyTransactionModel, Fit), ModelError> {
        fitted.map(|(m, fit)| (Box::new(m) as AnyTransactionModel, fit))
    }
    match kind {
        ModelKind::BgNbd => boxed(BgNbd::fit(data, opts)),
        ModelKind::MbgNbd => boxed(MbgNbd::fit(data, opts)),
        ModelKind::ParetoNbd => boxed(ParetoNbd::fit(data, opts)),
        other => Err(ModelError::InvalidData(format!(
            "{other} is not a transaction model"
        ))),
    }
}

/// The transaction model of a stored fit.
pub fn transactions_from_fit(fit: &Fit) -> Result<AnyTransactionModel, ModelError> {
    Ok(match fit.model {
        ModelKind::BgNbd => Box::new(BgNbd::from_fit(fit)?),
        ModelKind::MbgNbd => Box::new(MbgNbd::from_fit(fit)?),
        ModelKind::ParetoNbd => Box::new(ParetoNbd::from_fit(fit)?),
        other => {
            return Err(ModelError::InvalidData(format!(
                "{other} is not a transaction model"
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_transaction_kind_fits_and_round_trips() {
        let data: Vec<Rfm> = (0..40)
            .map(|i| Rfm::new((i % 5) as f64, (i % 5) as f64 * 3.0, 30.0 + (i % 7) as f64))
            .collect();
        for kind in [ModelKind::BgNbd, ModelKind::MbgNbd, ModelKind::ParetoNbd] {
            let (model, fit) = fit_transactions(kind, &data, &FitOptions::default()).unwrap();
            assert_eq!(fit.model, kind);
            let again = transactions_from_fit(&fit).unwrap();
            let c = Rfm::new(2.0, 10.0, 30.0);
            assert_eq!(model.p_alive(&c), again.p_alive(&c));
        }
        assert!(fit_transactions(ModelKind::GammaGamma, &data, &FitOptions::default()).is_err());
    }
}

//! The loyalty engine's data side: customer summaries (recency, frequency, age, spend) as
//! DataFusion queries over `transactions`, model fitting on the compressed patterns,
//! per-customer value written to the `customer_value` table, calibration/holdout
//! validation, and cohort retention.

mod fit;
mod history;
mod retention;
mod summary;
mod validate;
mod value;

pub use fit::{FitReport, fit, fit_summaries};
pub use history::Valuation;
pub use retention::{Cohort, RetentionRow, retention};
pub use summary::{
    Summaries, TimeUnit, Window, epoch_date, epoch_day, epoch_month, last_purchase_date,
};
pub use validate::{Validation, validate};
pub use value::{CUSTOMER_VALUE, EQUITY_AT, PredictOptions, PredictReport, predict};

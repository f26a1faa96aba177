//! What becomes of rows of customers erased with `cxray forget` when they arrive again.

use crate::names::named_enum;

named_enum! {
    /// The rule for imported and ingested rows whose customer was erased.
    #[derive(Default)]
    pub enum ErasedRows("rule for erased customers' rows") {
        /// Refused as bad input: an erased customer stays erased.
        #[default]
        Refuse = "refuse",
        /// Accepted like any other row (the customer has come back).
        Accept = "accept",
    }
}

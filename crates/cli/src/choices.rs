//! The values of enumerated options: `--help` lists them, clap refuses any other (exit
//! code 2, naming the valid ones), and each maps to the library's type.

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use cxray_analysis::comments::Compared;
use cxray_analysis::journey::DriverOutcome;
use cxray_analysis::loyalty::{Cohort, TimeUnit};
use cxray_analysis::settings::DefectionRule;
use cxray_core::drivers::Method;
use cxray_core::initiatives::Estimator;
use cxray_core::models::ModelKind;
use cxray_core::stats::Instrument;
use cxray_store::import::source::Format;

/// Declares enums of option values (`Variant = "value" ["alias", …] => library value;
/// "help"`) deriving `ValueEnum`, each with its conversion into the library's type.
macro_rules! choices {
    ($(
        $(#[$meta:meta])*
        $name:ident => $target:ty {
            $(
                $variant:ident = $value:literal $([$($alias:literal),+])? => $to:expr
                $(; $help:literal)?
            ),+ $(,)?
        }
    )+) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
        pub enum $name {
            $(
                #[value(name = $value $(, aliases = [$($alias),+])? $(, help = $help)?)]
                $variant
            ),+
        }

        impl From<$name> for $target {
            fn from(c: $name) -> Self {
                match c {
                    $($name::$variant => $to),+
                }
            }
        }
    )+};
}

choices! {
    /// Any model `loyalty fit` fits.
    AnyModel => ModelKind {
        BgNbd = "bgnbd" => ModelKind::BgNbd; "BG/NBD",
        MbgNbd = "mbgnbd" => ModelKind::MbgNbd; "MBG/NBD",
        Pnbd = "pnbd" => ModelKind::ParetoNbd; "Pareto/NBD",
        Sbg = "sbg" => ModelKind::Sbg; "shifted-beta-geometric",
        Gg = "gg" ["gamma_gamma"] => ModelKind::GammaGamma; "Gamma-Gamma spend",
    }
    /// A model of transactions.
    TransactionModel => ModelKind {
        BgNbd = "bgnbd" => ModelKind::BgNbd; "BG/NBD",
        MbgNbd = "mbgnbd" => ModelKind::MbgNbd; "MBG/NBD",
        Pnbd = "pnbd" => ModelKind::ParetoNbd; "Pareto/NBD",
    }
    Unit => TimeUnit {
        Day = "day" => TimeUnit::Day,
        Week = "week" => TimeUnit::Week,
        Month = "month" => TimeUnit::Month,
    }
    CohortLength => Cohort {
        Month = "cohort-month" ["month"] => Cohort::Month,
        Quarter = "cohort-quarter" ["quarter"] => Cohort::Quarter,
        Year = "cohort-year" ["year"] => Cohort::Year,
    }
    /// How an initiative's effect is estimated.
    EstimatorChoice => Option<Estimator> {
        Auto = "auto" => None; "chosen from the design, with the reason",
        Did = "did" => Some(Estimator::DifferenceInDifferences); "difference-in-differences, unit and period fixed effects",
        Staggered = "staggered" ["sun-abraham"] => Some(Estimator::Staggered); "Sun & Abraham for start dates that differ between units",
        Synthetic = "synthetic" ["synthetic-control"] => Some(Estimator::SyntheticControl); "synthetic control with placebos",
        Pilot = "pilot" => Some(Estimator::RandomizedPilot); "randomized pilot, CUPED",
    }
    /// What an initiative's effect is measured on.
    InitiativeOutcome => cxray_analysis::initiatives::Outcome {
        FailureRate = "failure_rate" ["failure-rate"] => cxray_analysis::initiatives::Outcome::FailureRate; "share of interactions that failed",
        Wait = "wait" => cxray_analysis::initiatives::Outcome::Wait; "mean wait in seconds",
        Defection = "defection" => cxray_analysis::initiatives::Outcome::Defection; "share of the customers at the touchpoints who bought nothing in the window after",
        Csat = "csat" => cxray_analysis::initiatives::Outcome::Csat; "share of CSAT answers about the touchpoints that are satisfied (4 or 5)",
        Nps = "nps" => cxray_analysis::initiatives::Outcome::Nps; "NPS of the answers about the touchpoints",
        Grade = "grade" => cxray_analysis::initiatives::Outcome::Grade; "grade point average of the report-card answers about the touchpoints",
        RevenuePerCustomer = "revenue_per_customer" ["revenue-per-customer"] => cxray_analysis::initiatives::Outcome::RevenuePerCustomer; "revenue per buying customer in the unit's transactions",
    }
    DriverMethod => Method {
        Auto = "auto" => Method::Auto; "shapley up to 15 predictors, relative weights beyond",
        Shapley = "shapley" ["dominance"] => Method::Shapley; "exact general dominance",
        RelativeWeights = "relative-weights" => Method::RelativeWeights; "Johnson's relative weights",
    }
    Outcome => DriverOutcome {
        Defection = "defection" => DriverOutcome::Defection; "no purchase in the window after a trip (logistic)",
        Spend = "spend" => DriverOutcome::Spend; "spend in the window after a trip (linear)",
    }
    Defection => DefectionRule {
        Auto = "auto" => DefectionRule::Auto; "palive when customers are valued, else window",
        Window = "window" => DefectionRule::Window; "no purchase within the window after the answer",
        Palive = "palive" => DefectionRule::Palive; "P(alive) below the threshold in customer_value",
    }
    TermGroups => Compared {
        Promoters = "promoters" => Compared::Promoters; "promoters (NPS 9–10) against detractors (0–6)",
        Defectors = "defectors" => Compared::Defectors; "no purchase in the window after the answer against a purchase in it",
        SatisfiedDefectors = "satisfied-defectors" => Compared::SatisfiedDefectors; "defectors against stayers among the satisfied",
    }
    Metric => Instrument {
        Nps = "nps" => Instrument::Nps; "Net Promoter Score, −100…100",
        Csat = "csat" => Instrument::Csat; "top-2-box share, %",
        Ces = "ces" => Instrument::Ces; "Customer Effort Score, the mean",
        Grade = "grade" => Instrument::Grade; "grade point average",
    }
    /// What survey invitations are grouped by.
    RateBy => cxray_store::surveys::RateGroup {
        Survey = "survey" => cxray_store::surveys::RateGroup::Survey,
        Touchpoint = "touchpoint" => cxray_store::surveys::RateGroup::Touchpoint,
        Owner = "owner" => cxray_store::surveys::RateGroup::Owner; "the owner of the invitation's touchpoint",
        Channel = "channel" => cxray_store::surveys::RateGroup::Channel,
        Week = "week" => cxray_store::surveys::RateGroup::Week; "the ISO week sent: a survey round",
    }
    FileFormat => Format {
        Csv = "csv" => Format::Csv,
        Tsv = "tsv" => Format::Tsv,
        Ws = "ws" ["whitespace", "txt"] => Format::Whitespace; "fields separated by spaces or tabs",
        Parquet = "parquet" => Format::Parquet,
        Ndjson = "ndjson" ["jsonl", "json"] => Format::Ndjson; "one JSON object per line",
    }
}

/// What `cxray report` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PackFormat {
    /// Printed to PDF by headless Chromium.
    Pdf,
    /// The pack's HTML document alone.
    Html,
}

/// The parser of a core type whose variants have fixed names (`all`, named by `name`):
/// help lists the names, others are refused; ASCII case is ignored where the argument
/// says so.
pub fn named<T>(all: &'static [T], name: fn(T) -> &'static str) -> impl TypedValueParser<Value = T>
where
    T: Copy + Send + Sync + 'static,
{
    PossibleValuesParser::new(all.iter().map(|&v| PossibleValue::new(name(v)))).map(move |text| {
        *all.iter()
            .find(|&&v| name(v).eq_ignore_ascii_case(&text))
            .expect("a possible value")
    })
}

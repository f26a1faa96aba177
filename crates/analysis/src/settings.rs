//! The product's settings: how defection is defined, which model and thresholds the
//! analyses use. One value with documented defaults, taken by the command line, the
//! pages and the API alike, so the same question gives the same number everywhere.

use cxray_core::models::ModelKind;
use cxray_core::stats::{Instrument, Settings};
use serde::Serialize;

use crate::loyalty::CUSTOMER_VALUE;
use crate::metrics::{Defection, LinkOptions};
use cxray_store::sql::Sql;

/// How the satisfaction–loyalty link decides who defected.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DefectionRule {
    /// From the loyalty engine (P(alive) below the threshold) when customers are valued
    /// (`customer_value` exists), else from the purchase window.
    Auto,
    /// No purchase within the window after the answer.
    Window,
    /// P(alive) below the threshold in `customer_value`.
    Palive,
}

/// The settings every analysis shares.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ProductSettings {
    /// Days after an answer or a trip within which a purchase counts as staying (180).
    pub window_days: u32,
    /// How the link decides who defected (auto).
    pub defection: DefectionRule,
    /// P(alive) below this counts as defected (0.5).
    pub palive_threshold: f64,
    /// The stated measure of the link and the scorecard (NPS).
    pub instrument: Instrument,
    /// The loyalty model behind the link's behavioural prediction (BG/NBD).
    pub model: ModelKind,
    /// Bootstrap resamples of the driver analysis (200).
    pub resamples: usize,
    /// Confidence level and small-sample rules of every figure.
    pub stats: Settings,
}

impl Default for ProductSettings {
    fn default() -> Self {
        ProductSettings {
            window_days: 180,
            defection: DefectionRule::Auto,
            palive_threshold: 0.5,
            instrument: Instrument::Nps,
            model: ModelKind::BgNbd,
            resamples: 200,
            stats: Settings::default(),
        }
    }
}

impl ProductSettings {
    /// The definition of defection for the session's data: `Auto` resolved.
    pub fn defection(&self, sql: &Sql) -> Defection {
        let palive = Defection::Palive {
            threshold: self.palive_threshold,
        };
        match self.defection {
            DefectionRule::Window => Defection::Window,
            DefectionRule::Palive => palive,
            DefectionRule::Auto if sql.made_by(CUSTOMER_VALUE).is_some() => palive,
            DefectionRule::Auto => Defection::Window,
        }
    }

    /// The link's options: overall, no groups.
    pub fn link_options(&self, sql: &Sql) -> LinkOptions {
        LinkOptions {
            instrument: self.instrument,
            defection: self.defection(sql),
            window_days: self.window_days,
            by: None,
            model: self.model,
            settings: self.stats,
        }
    }
}

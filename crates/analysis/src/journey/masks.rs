//! Which touchpoints a trip went through, as bit masks: the derived trips carry one
//! 64-bit word per 64 touchpoints for each [`Mask`], so a trip's visits are a few integers
//! instead of a row per visit, and counting trips per touchpoint is a grouping of trips.

use datafusion::prelude::Expr;
use datafusion::prelude::col;
use serde::{Deserialize, Serialize};

use cxray_store::Result;
use cxray_store::decode::{Column, Columns};

/// What a mask marks: touchpoints the trip went through, those where something failed or a
/// wait broke the service level, and those where a wait broke it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mask {
    Visited,
    Bad,
    Slow,
}

impl Mask {
    pub const ALL: [Mask; 3] = [Mask::Visited, Mask::Bad, Mask::Slow];

    fn prefix(self) -> &'static str {
        match self {
            Mask::Visited => "visited",
            Mask::Bad => "bad",
            Mask::Slow => "slow",
        }
    }
}

/// The touchpoints of one build in bit order (sorted by name): bit `k % 64` of word
/// `k / 64` stands for touchpoint `k`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Touchpoints {
    pub names: Vec<String>,
}

impl Touchpoints {
    /// Words per mask (at least one, so the columns exist when there are no touchpoints).
    pub fn words(&self) -> usize {
        self.names.len().div_ceil(64).max(1)
    }

    /// The column names of one mask, word by word.
    pub fn columns(&self, mask: Mask) -> Vec<String> {
        (0..self.words())
            .map(|w| format!("{}_{w}", mask.prefix()))
            .collect()
    }

    /// Every mask column, mask by mask.
    pub fn all_columns(&self) -> Vec<String> {
        Mask::ALL.iter().flat_map(|m| self.columns(*m)).collect()
    }

    /// The columns of one mask as expressions.
    pub fn exprs(&self, mask: Mask) -> Vec<Expr> {
        self.columns(mask).iter().map(|c| col(c.as_str())).collect()
    }

    /// Touchpoint `k`'s word and the value of its bit in that word.
    pub fn bit(k: usize) -> (usize, i64) {
        (k / 64, 1i64.wrapping_shl((k % 64) as u32))
    }

    /// One mask's words in a result batch.
    pub fn read(&self, c: &Columns, mask: Mask) -> Result<Words> {
        let columns = self.columns(mask);
        let words = columns.iter().map(|n| c.int(n)).collect::<Result<_>>()?;
        Ok(Words(words))
    }
}

/// One mask's words in a result batch.
pub(super) struct Words(Vec<Column>);

impl Words {
    /// Whether touchpoint `k`'s bit is set in row `r`.
    pub fn has(&self, r: usize, k: usize) -> bool {
        let (word, bit) = Touchpoints::bit(k);
        self.0[word].i64(r).unwrap_or(0) & bit != 0
    }

    /// The touchpoints whose bits are set in row `r`, in bit order.
    pub fn set(&self, r: usize, n: usize) -> impl Iterator<Item = usize> + '_ {
        (0..n).filter(move |k| self.has(r, *k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_cover_every_position_of_every_word() {
        assert_eq!(Touchpoints::bit(0), (0, 1));
        assert_eq!(Touchpoints::bit(63), (0, i64::MIN));
        assert_eq!(Touchpoints::bit(64), (1, 1));
        let names = (0..130).map(|k| format!("t{k:03}")).collect();
        let tps = Touchpoints { names };
        assert_eq!(tps.words(), 3);
        assert_eq!(tps.columns(Mask::Bad), ["bad_0", "bad_1", "bad_2"]);
        assert_eq!(Touchpoints::default().words(), 1);
    }
}

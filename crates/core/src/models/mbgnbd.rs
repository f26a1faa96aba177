//! MBG/NBD (Batislam, Denizel & Filiztekin 2007): BG/NBD in which a customer may also drop
//! out right after the first purchase, so customers without repeat purchases can be
//! inactive. Shares its implementation with [`super::BgNbd`].

use super::bgnbd::BetaGeometricNbd;

/// MBG/NBD: dropout after the first purchase and after each repeat purchase.
pub type MbgNbd = BetaGeometricNbd<true>;

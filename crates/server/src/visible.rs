//! What owners and partners see of the analyses: only their own touchpoints (and the
//! hand-offs into them), compared among themselves rather than with the company, and no
//! filtered view of fewer customers than the minimum group size.

use cxray_analysis::journey::Journey;

use crate::auth::CurrentUser;
use crate::snapshot::Snapshot;

/// Whether `user` may see touchpoints of `owner`.
pub fn sees(user: &CurrentUser, owner: Option<&str>) -> bool {
    user.role.sees_all_owners() || (owner.is_some() && owner == user.owner_id.as_deref())
}

/// The journey as `user` may see it: for owners and partners, only their touchpoints and
/// owner and the hand-offs into their touchpoints, without the company's mean CLV (what
/// is derived from it, such as the weak-area map, then compares their touchpoints only).
pub fn journey(j: &Journey, user: &CurrentUser) -> Journey {
    let mut j = j.clone();
    if !user.role.sees_all_owners() {
        j.mean_clv = None;
    }
    j.touchpoints.retain(|t| sees(user, t.owner.as_deref()));
    j.owners.retain(|o| sees(user, Some(&o.owner)));
    j.handoffs.retain(|h| sees(user, Some(&h.to_owner)));
    j
}

/// Whether the view `s` is withheld from `user`: a filtered view of fewer than `min`
/// customers, for a role that does not see small groups.
pub fn withheld(user: &CurrentUser, s: &Snapshot, min: u64) -> bool {
    !user.role.sees_small_groups() && s.customers.is_some_and(|n| n < min)
}

/// Why a view is withheld.
pub fn note(min: u64) -> String {
    format!(
        "These filters describe fewer than {min} customers: figures for groups this small are withheld for your role. Widen the filters."
    )
}

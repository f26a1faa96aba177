//! The e-mail of a case event: what happened, where, whose it is and when it is due —
//! never the customer's id, so it is fit for partners too.

use cxray_core::cases::{CaseEvent, CaseStatus};
use cxray_store::cases::Waiting;
use cxray_store::outbox::Mail;

use crate::reports::{MailError, Mailer};

/// The e-mail of `w` to `to`.
pub(super) fn mail(mailer: &Mailer, to: &str, w: &Waiting) -> Result<Mail, MailError> {
    let c = &w.case;
    let subject = format!("{}: case {}, {}", subject(w), c.id, c.rule);
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    let body = format!(
        "{}\n\n\
         What happened:     {}\n\
         Touchpoint:        {}\n\
         Owner:             {}\n\
         Status:            {}\n\
         First contact by:  {}\n\
         Resolve by:        {}\n\n\
         Open case {} under Cases in cxray to work on it.\n\n\
         -- \nSent by cxray's closed loop: you work on this owner's cases, lead them, or \
         administer cxray.\n",
        sentence(w),
        c.detail,
        dash(&c.touchpoint),
        dash(&c.owner),
        c.status.label(),
        c.contact_by,
        c.resolve_by,
        c.id,
    );
    mailer.text(to, &subject, &body)
}

/// The subject's first words: "Case opened", "Case escalated to the owner's lead".
fn subject(w: &Waiting) -> String {
    match w.escalation {
        Some(level) => format!("{} to {}", w.event.label(), level.label()),
        None => w.event.label().to_string(),
    }
}

/// What happened, in a sentence.
fn sentence(w: &Waiting) -> String {
    let c = &w.case;
    match w.event {
        CaseEvent::Opened => format!(
            "The rule \"{}\" opened case {} for follow-up.",
            c.rule, c.id
        ),
        CaseEvent::Overdue => match c.status {
            CaseStatus::Open => format!(
                "Case {} is overdue: the customer was to be contacted by {}.",
                c.id, c.contact_by
            ),
            _ => format!(
                "Case {} is overdue: it was to be resolved by {}.",
                c.id, c.resolve_by
            ),
        },
        CaseEvent::Escalated => format!(
            "Case {} is still overdue and is escalated to {}.",
            c.id,
            w.escalation.map_or("you", |e| e.label())
        ),
        CaseEvent::Closed => format!("Case {} is now {}.", c.id, c.status.label().to_lowercase()),
    }
}

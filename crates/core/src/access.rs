//! Who may see and do what: roles, the scopes of API tokens, and the pseudonyms that
//! stand for customer ids in partners' views.

use crate::names::{UnknownName, named_enum};

named_enum! {
    /// A user's role.
    pub enum Role("role") {
        /// Manages users, API tokens and targets; sees everything.
        Admin = "admin",
        /// Sees everything; changes nothing.
        Executive = "executive",
        /// Sees everything and works with the analyses.
        Analyst = "analyst",
        /// Sees only their own touchpoints and cases.
        Owner = "owner",
        /// An outside party: sees only their own touchpoints and cases, and customers
        /// only by pseudonym.
        Partner = "partner",
    }
}

/// The longest e-mail address accepted, in bytes.
pub const MAX_EMAIL_BYTES: usize = 254;

/// Whether `s` is one plain address `name@example.com`: letters, digits and `._%+-` on
/// both sides of one `@`, a dotted domain (no display name, list or quoting).
pub fn is_email(s: &str) -> bool {
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-'))
    };
    s.len() <= MAX_EMAIL_BYTES
        && s.split_once('@').is_some_and(|(local, domain)| {
            plain(local)
                && plain(domain)
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
}

impl Role {
    /// The role's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::Executive => "Executive",
            Role::Analyst => "Analyst",
            Role::Owner => "Owner (team)",
            Role::Partner => "Partner (outside company)",
        }
    }

    /// May manage users, API tokens and targets.
    pub fn can_admin(self) -> bool {
        self == Role::Admin
    }

    /// May send data to the ingestion API (with an API token that has the `ingest` scope).
    pub fn can_ingest(self) -> bool {
        matches!(self, Role::Admin | Role::Analyst)
    }

    /// Is tied to one owner and sees only that owner's touchpoints and cases.
    pub fn needs_owner(self) -> bool {
        matches!(self, Role::Owner | Role::Partner)
    }

    /// May work on follow-up cases (their own, for owners and partners) and open them;
    /// executives only read.
    pub fn can_work_cases(self) -> bool {
        self != Role::Executive
    }

    /// May record initiatives and change them; the others only read them.
    pub fn can_record_initiatives(self) -> bool {
        matches!(self, Role::Admin | Role::Analyst)
    }

    /// Sees every owner's touchpoints and cases.
    pub fn sees_all_owners(self) -> bool {
        !self.needs_owner()
    }

    /// Sees figures of any group of customers; owners and partners see filtered views
    /// only of groups of at least the minimum size, and no company-wide comparisons.
    pub fn sees_small_groups(self) -> bool {
        self.sees_all_owners()
    }

    /// Sees customer ids; partners see [`pseudonym`]s instead.
    pub fn sees_customer_ids(self) -> bool {
        self != Role::Partner
    }

    /// A customer id as this role may see it: the id, or its pseudonym under `key`.
    pub fn customer_id(self, key: &PseudonymKey, customer_id: &str) -> String {
        if self.sees_customer_ids() {
            customer_id.to_string()
        } else {
            pseudonym(key, customer_id)
        }
    }
}

named_enum! {
    /// What an API token may do.
    pub enum Scope("scope") {
        /// Read figures and data.
        Read = "read",
        /// Import data.
        Ingest = "ingest",
        /// Open and work on follow-up cases.
        Cases = "cases",
        /// Define surveys, invitation rules and the contact policy (admins).
        Surveys = "surveys",
        /// Record and change initiatives.
        Initiatives = "initiatives",
    }
}

impl Scope {
    /// The scope's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Scope::Read => "Read figures and data",
            Scope::Ingest => "Send data (ingestion)",
            Scope::Cases => "Open and work on follow-up cases",
            Scope::Surveys => "Define surveys, invitation rules and the contact policy",
            Scope::Initiatives => "Record and change initiatives",
        }
    }
}

/// Parses a comma-separated list of scopes (`read,ingest`): sorted, without repeats.
pub fn parse_scopes(text: &str) -> Result<Vec<Scope>, UnknownName> {
    let mut scopes = text
        .split(',')
        .map(str::parse)
        .collect::<Result<Vec<Scope>, _>>()?;
    scopes.sort();
    scopes.dedup();
    Ok(scopes)
}

/// Scopes as a comma-separated list, the form [`parse_scopes`] reads.
pub fn scopes_text(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.name())
        .collect::<Vec<_>>()
        .join(",")
}

/// The secret key of a data folder's pseudonyms.
pub type PseudonymKey = [u8; 32];

/// A customer id's pseudonym: `c-` and 12 hex digits of the id's BLAKE3 hash keyed with
/// the data folder's secret. The same id always gets the same pseudonym, so a partner can
/// follow one customer across pages, but without the key it can be neither reversed nor
/// recomputed from a guessed id. 48 bits keep collisions unlikely up to millions of
/// customers.
pub fn pseudonym(key: &PseudonymKey, customer_id: &str) -> String {
    let hash = blake3::keyed_hash(key, customer_id.as_bytes());
    format!("c-{}", &hash.to_hex()[..12])
}

/// A number in [0, 1) from the BLAKE3 hash, keyed with `key`, of the label `domain`, the
/// id and `parts`: the same on every run, unknowable without the key, and independent
/// between domains and ids. Each part is prefixed by its length, so no two lists of parts
/// collide.
pub fn keyed_uniform(key: &PseudonymKey, domain: &str, id: i64, parts: &[&[u8]]) -> f64 {
    let mut h = blake3::Hasher::new_keyed(key);
    h.update(domain.as_bytes());
    h.update(b"\0");
    h.update(&id.to_le_bytes());
    for part in parts {
        h.update(&(part.len() as u64).to_le_bytes());
        h.update(part);
    }
    let bytes: [u8; 8] = h.finalize().as_bytes()[..8].try_into().expect("8 bytes");
    // The top 53 bits, so every value is an exact double below 1.
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_display_and_permit() {
        assert_eq!("Partner".parse::<Role>(), Ok(Role::Partner));
        assert_eq!(Role::Analyst.to_string(), "analyst");
        let e = "boss".parse::<Role>().unwrap_err().to_string();
        assert_eq!(
            e,
            "unknown role 'boss' (expected one of: admin, executive, analyst, owner, partner)"
        );
        let admins: Vec<Role> = Role::ALL
            .iter()
            .copied()
            .filter(|r| r.can_admin())
            .collect();
        assert_eq!(admins, [Role::Admin]);
        assert!(Role::Executive.sees_all_owners() && !Role::Owner.sees_all_owners());
        assert!(Role::Owner.sees_customer_ids() && !Role::Partner.sees_customer_ids());
        assert!(Role::Partner.needs_owner() && !Role::Analyst.needs_owner());
        assert!(Role::Analyst.sees_small_groups() && !Role::Owner.sees_small_groups());
        assert!(Role::Analyst.can_ingest() && !Role::Executive.can_ingest());
        assert!(Role::Partner.can_work_cases() && !Role::Executive.can_work_cases());
    }

    #[test]
    fn scopes_are_a_sorted_set() {
        assert_eq!(
            parse_scopes("ingest, read,ingest"),
            Ok(vec![Scope::Read, Scope::Ingest])
        );
        assert_eq!(scopes_text(&[Scope::Read, Scope::Ingest]), "read,ingest");
        assert!(parse_scopes("").is_err());
        assert!(parse_scopes("read,write").is_err());
    }

    #[test]
    fn pseudonyms_are_stable_keyed_and_short() {
        let key = [7u8; 32];
        let p = pseudonym(&key, "C-1001");
        assert_eq!(p, pseudonym(&key, "C-1001"));
        assert_eq!(p.len(), 14);
        assert!(p.starts_with("c-") && p[2..].chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(p, pseudonym(&key, "C-1002"));
        assert_ne!(p, pseudonym(&[8u8; 32], "C-1001"));
        assert_eq!(Role::Partner.customer_id(&key, "C-1001"), p);
        assert_eq!(Role::Owner.customer_id(&key, "C-1001"), "C-1001");
    }
}

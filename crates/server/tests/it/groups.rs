//! The minimum group size: owners and partners get no figures for a filtered view of
//! fewer customers than the minimum, on pages and in the API, and no company-wide
//! comparisons; analysts are unaffected.

use std::collections::BTreeMap;

use cxray_core::access::{Role, Scope};
use cxray_store::DataFolder;
use cxray_store::sql::Sql;

use crate::auth::add;
use crate::{Server, computed, form};

/// One customer's `first_seen`, as text: a filter on it describes that customer alone.
fn one_first_seen(server: &Server) -> String {
    let folder = DataFolder::open(&server.data).unwrap();
    let runtime = server.runtime.as_ref().unwrap();
    runtime.block_on(async {
        let sql = Sql::open(&folder, &BTreeMap::new()).await.unwrap();
        let mut all = sql.distinct("customers", "first_seen").await.unwrap();
        all.swap_remove(0)
    })
}

#[test]
fn small_groups_are_withheld_from_owners_and_partners_only() {
    let server = Server::demo(300);
    add(&server, "ann@example.com", Role::Analyst, None);
    add(&server, "own@example.com", Role::Owner, Some("nordground"));
    add(
        &server,
        "par@example.com",
        Role::Partner,
        Some("nordground"),
    );
    let token = |email: &str| {
        let t = server
            .ops()
            .create_api_token("test", email, "t", &[Scope::Read]);
        format!("Bearer {}", t.unwrap().token)
    };
    let (analyst, owner) = (token("ann@example.com"), token("own@example.com"));
    let partner = token("par@example.com");
    let tiny = form(&[
        ("attribute", "first_seen"),
        ("value", &one_first_seen(&server)),
    ]);
    let wide = "from=2000-01-01";
    let note = "fewer than 20 customers";

    for (path, who) in ["journey", "areas", "owners/nordground"]
        .iter()
        .flat_map(|p| [(p, &owner), (p, &partner)])
    {
        let r = computed(&server, &format!("/api/v1/{path}?{tiny}"), who);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        let body = r.json();
        assert_eq!(body["withheld"], true, "{path}: {body}");
        assert_eq!(body["min_group_size"], 20);
        assert!(body["note"].as_str().unwrap().contains(note), "{body}");
        assert_eq!(body.as_object().unwrap().len(), 3, "no figures: {body}");
    }
    let other = computed(&server, &format!("/api/v1/owners/digital?{tiny}"), &owner);
    assert_eq!(other.status, 404, "{}", other.body);
    for path in ["/journey", "/areas", "/owners", "/owners/nordground"] {
        let r = computed(&server, &format!("{path}?{tiny}"), &owner);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert!(r.body.contains(note), "{path}: {}", r.body);
        assert!(!r.body.contains("<data data-key"), "{path} shows figures");
    }

    // A large enough group: the owner's own figures, compared among themselves.
    let journey = computed(&server, &format!("/api/v1/journey?{wide}"), &owner).json();
    let tps = journey["touchpoints"].as_array().unwrap();
    assert!(!tps.is_empty() && tps.iter().all(|t| t["owner"] == "nordground"));
    assert!(journey["mean_clv"].is_null(), "{}", journey["mean_clv"]);
    let areas = computed(&server, &format!("/api/v1/areas?{wide}"), &owner).json();
    // Every own touchpoint listed; none ranked, as none is priced (no customer values),
    // so none has a measurable loss.
    let areas = areas.as_array().unwrap();
    assert_eq!(areas.len(), tps.len());
    assert!(
        areas
            .iter()
            .all(|a| a["rank"].is_null() && a["owner"] == "nordground")
    );
    let page = computed(&server, &format!("/journey?{wide}"), &owner);
    assert!(page.body.contains("<data data-key") && !page.body.contains(note));

    // The analyst sees the tiny group's figures.
    let journey = computed(&server, &format!("/api/v1/journey?{tiny}"), &analyst).json();
    assert!(journey["touchpoints"].is_array() && journey.get("withheld").is_none());
    let page = computed(&server, &format!("/journey?{tiny}"), &analyst);
    assert_eq!(page.status, 200);
    assert!(!page.body.contains(note));
}

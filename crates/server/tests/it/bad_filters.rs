//! Filter values the analyses cannot use are the caller's mistake: 400 with a plain
//! message, on pages and in the API; an analysis with nothing to analyse is 422.

use cxray_core::access::{Role, Scope};

use crate::auth::add;
use crate::{Server, computed};

#[test]
fn filter_values_the_analyses_cannot_use_get_400_with_a_plain_message() {
    let server = Server::demo(300);
    add(&server, "ada@example.com", Role::Analyst, None);
    let token = server
        .ops()
        .create_api_token("test", "ada@example.com", "t", &[Scope::Read])
        .unwrap();
    let auth = format!("Bearer {}", token.token);
    let ready = computed(&server, "/api/v1/scorecard", &auth);
    assert_eq!(ready.status, 200, "{}", ready.body);
    let internals = [
        "DataFusion",
        "Arrow",
        "Optimizer",
        "optimizer",
        "Cast",
        "Execution",
    ];
    for filter in ["from=1600-01-01", "attribute=first_seen&value=not-a-time"] {
        for path in ["/api/v1/scorecard", "/"] {
            let r = computed(&server, &format!("{path}?{filter}"), &auth);
            assert_eq!(r.status, 400, "{path}?{filter}: {}", r.body);
            let leaked: Vec<_> = internals.iter().filter(|w| r.body.contains(*w)).collect();
            assert!(
                leaked.is_empty(),
                "{path}?{filter}: {leaked:?} in {}",
                r.body
            );
        }
    }
}

#[test]
fn an_analysis_with_no_data_gets_422_with_its_kind() {
    let server = Server::initialised();
    add(&server, "ada@example.com", Role::Analyst, None);
    let token = server
        .ops()
        .create_api_token("test", "ada@example.com", "t", &[Scope::Read])
        .unwrap();
    let r = computed(&server, "/api/v1/link", &format!("Bearer {}", token.token));
    assert_eq!(r.status, 422, "{}", r.body);
    let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body["kind"], "no_data", "{body}");
    assert_eq!(body["error"], "transactions is empty: import some first");
}

use crate::targets::*;

#[test]
fn targets_are_checked_replaced_and_audited() {
    let (_dir, db) = db();
    let period = |p: &str| p.parse::<Period>().unwrap();
    db.set_target("ada", Headline::Retention, &period("2025"), 0.7)
        .unwrap();
    db.set_target("ada", Headline::Nps, &period("2025-Q1"), 30.0)
        .unwrap();
    db.set_target("bob", Headline::Nps, &period("2025-q1"), 35.0)
        .unwrap();
    let e = db.set_target("ada", Headline::Csat, &period("2025"), 120.0);
    assert_eq!(
        e.unwrap_err().to_string(),
        "CSAT target 120: between 0 and 100"
    );
    let targets = db.targets().unwrap();
    let brief: Vec<(Headline, &str, f64, &str)> = targets
        .iter()
        .map(|t| (t.metric, t.period.as_str(), t.value, t.set_by.as_str()))
        .collect();
    assert_eq!(
        brief,
        [
            (Headline::Nps, "2025-Q1", 35.0, "bob"),
            (Headline::Retention, "2025", 0.7, "ada")
        ]
    );
    let audit = db.recent_audit(1).unwrap();
    assert_eq!(audit[0].action, "set_target");
    assert_eq!(audit[0].detail, "nps 2025-Q1: 35");
    db.remove_target("ada", Headline::Nps, &period("2025-q1"))
        .unwrap();
    assert_eq!(db.targets().unwrap().len(), 1);
    let again = db.remove_target("ada", Headline::Nps, &period("2025-Q1"));
    assert_eq!(again.unwrap_err().to_string(), "no NPS target for 2025-Q1");
    let audit = db.recent_audit(1).unwrap();
    assert_eq!(
        (audit[0].action.as_str(), audit[0].detail.as_str()),
        ("remove_target", "nps 2025-Q1")
    );
}

use crate::initiatives::*;

fn example() -> Initiative {
    let scope = Scope::parse("airport=CPH", vec!["bag_drop".into()]).unwrap();
    Initiative {
        running_cost: 10_000.0,
        ..Initiative::new("Bag fix", scope, "2024-09-01".parse().unwrap())
    }
}

#[test]
fn initiatives_are_added_read_updated_and_audited() {
    let (_dir, db) = db();
    db.add_initiative("ada", &example()).unwrap();
    assert_eq!(db.initiative("bag FIX").unwrap(), example());
    let again = db.add_initiative(
        "ada",
        &Initiative {
            name: "BAG fix".into(),
            ..example()
        },
    );
    assert_eq!(
        again.unwrap_err().to_string(),
        "an initiative named 'BAG fix' exists already"
    );
    let bad = Initiative {
        one_off_cost: -1.0,
        name: "Other".into(),
        ..example()
    };
    assert!(matches!(
        db.add_initiative("ada", &bad),
        Err(StoreError::Invalid {
            field: "one_off_cost",
            ..
        })
    ));
    assert_eq!(db.initiatives().unwrap().len(), 1);
    let done = Initiative {
        status: Status::Done,
        notes: "rolled out".into(),
        ..example()
    };
    db.update_initiative("bob", "bag fix", &done).unwrap();
    assert_eq!(db.initiative("Bag fix").unwrap(), done);
    let id = db.recorded_initiatives().unwrap()[0].id;
    let found = db.initiative_by_id(id).unwrap().unwrap();
    assert_eq!(found.initiative, done);
    assert_eq!(db.initiative_by_id(id + 1).unwrap(), None);
    let audit = db.recent_audit(2).unwrap();
    assert_eq!(
        (audit[0].action.as_str(), audit[1].action.as_str()),
        ("update_initiative", "add_initiative")
    );
    assert_eq!(
        db.initiative("nope").unwrap_err().to_string(),
        "no initiative named 'nope' (initiatives: Bag fix)"
    );
}

//! Who answers on the demo world: every trip asked, or recorded invitations; customers'
//! e-mail addresses for a batch of invitations.

use std::collections::{BTreeMap, HashMap};

use chrono::DateTime;
use cxray_analysis::journey::JourneyOptions;
use cxray_analysis::surveys::addresses::addresses;
use cxray_analysis::surveys::population::{Invitation, Invited};
use cxray_analysis::surveys::respondents::who_answers;
use cxray_core::domain::Table;
use cxray_core::world::World;
use cxray_store::ErrorKind;
use cxray_store::ops::OpsDb;
use cxray_store::sql::Sql;

use crate::{fresh, query};

#[tokio::test]
async fn recorded_invitations_choose_the_trips_asked() {
    let (_dir, folder) = fresh().await;
    cxray_analysis::world::build(&folder, World::airline(), 2_000, 3, |_| {})
        .await
        .unwrap();
    let sql = Sql::open(&folder, &BTreeMap::new()).await.unwrap();
    let opts = JourneyOptions {
        window_days: 180,
        slas: OpsDb::open(&folder.ops_db_path()).unwrap().slas().unwrap(),
        placements: BTreeMap::new(),
        settings: Default::default(),
    };
    let every = who_answers(&sql, &opts, &Invited::EveryTrip).await.unwrap();

    // An invitation an hour after each order's last touchpoint asks the same trips.
    let ends = query(
        &folder,
        "SELECT c.customer_id, CAST(max(i.at) AS BIGINT), c.segment FROM interactions i
         JOIN customers c ON c.customer_id = i.customer_id GROUP BY c.customer_id, c.segment, i.order_id",
    )
    .await;
    let invitation = |row: &Vec<String>| Invitation {
        customer_id: row[0].clone(),
        at: DateTime::from_timestamp_micros(row[1].parse::<i64>().unwrap() + 3_600_000_000)
            .unwrap(),
    };
    let all = Invited::Listed(ends.iter().map(invitation).collect());
    let listed = who_answers(&sql, &opts, &all).await.unwrap();
    let close = |a: u64, b: u64| a.abs_diff(b) * 100 <= b;
    assert!(
        close(listed.invited, every.invited),
        "{} {}",
        listed.invited,
        every.invited
    );
    assert!(close(listed.responded, every.responded));
    assert!((listed.weighted.nps.value - every.weighted.nps.value).abs() < 1.0);

    // Invitations to business customers only: the segment no longer tells anyone apart.
    let business: Vec<Invitation> = (ends.iter())
        .filter(|r| r[2] == "business")
        .map(invitation)
        .collect();
    let some = who_answers(&sql, &opts, &Invited::Listed(business))
        .await
        .unwrap();
    assert!(some.invited < every.invited / 2);
    assert_eq!(some.weighted.constant, ["segment"]);
    assert!(!some.weighted.covariates.contains(&"segment".to_string()));

    let none = who_answers(&sql, &opts, &Invited::Listed(Vec::new())).await;
    assert_eq!(none.unwrap_err().kind(), ErrorKind::NoData);
}

#[tokio::test]
async fn addresses_are_read_for_just_the_batchs_customers() {
    let (_dir, folder) = fresh().await;
    let customers = "customer_id,email\nC1,a@x.example\nC2, \nC3,c@x.example\nC'4,d@x.example\n";
    crate::cases::load(&folder, Table::Customers, "customers.csv", customers).await;
    let sql = Sql::open(&folder, &BTreeMap::new()).await.unwrap();
    let ids = ["C1", "C2", "C'4", "C9"].map(String::from);
    let found = addresses(&sql, "email", &ids).await.unwrap();
    let want = [("C1", "a@x.example"), ("C'4", "d@x.example")];
    let want: HashMap<String, String> = want
        .iter()
        .map(|(c, a)| (c.to_string(), a.to_string()))
        .collect();
    assert_eq!(
        found, want,
        "a blank address and customers not asked left out"
    );
    let e = addresses(&sql, "e_mail", &ids).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadInput);
    assert!(e.to_string().contains("'e_mail'"), "{e}");
}

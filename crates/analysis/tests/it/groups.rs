//! Scorecard views of customer groups from the partial aggregates against the same views
//! recomputed from the restricted tables.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use cxray_analysis::groups::Groups;
use cxray_analysis::settings::ProductSettings;
use cxray_analysis::snapshot::{self, Part};
use cxray_store::sql::{Restriction, Sql};
use serde_json::Value;

use crate::fresh;

/// The differences between two JSON values beyond a relative tolerance of numbers.
fn differences(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            if (x - y).abs() > 1e-9 * x.abs().max(y.abs()).max(1e-300) {
                out.push(format!("{path}: {x} against {y}"));
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                differences(&format!("{path}/{i}"), x, y, out);
            }
        }
        (Value::Object(x), Value::Object(y)) if x.len() == y.len() => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) => differences(&format!("{path}/{k}"), v, w, out),
                    None => out.push(format!("{path}/{k}: missing")),
                }
            }
        }
        _ if a == b => {}
        _ => out.push(format!("{path}: {a} against {b}")),
    }
}

/// The partials kept in the data folder: read back as long as the data and settings are
/// the same (the file is not written again), computed and kept anew when they change.
async fn kept_and_read_back(
    folder: &cxray_store::DataFolder,
    sql: &Sql,
    settings: &ProductSettings,
) -> Groups {
    let path = folder.root().join("derived").join("groups.json");
    let key = || {
        let text = std::fs::read(&path).expect("the partials are kept");
        serde_json::from_slice::<Value>(&text).unwrap()["key"].clone()
    };
    let (kept, written) = (key(), path.metadata().unwrap().modified().unwrap());
    let more = ProductSettings {
        resamples: 7,
        ..*settings
    };
    let read_back = Groups::load(sql, folder, &more).await.unwrap().unwrap();
    assert_eq!(path.metadata().unwrap().modified().unwrap(), written);
    assert_eq!(key(), kept, "the resamples do not change the partials");
    let ops = cxray_store::ops::OpsDb::open(&folder.ops_db_path()).unwrap();
    let sla = cxray_store::ops::Sla {
        max_wait_seconds: Some(60.0),
        max_failure_rate: None,
    };
    ops.set_sla("test", "check_in", sla).unwrap();
    Groups::load(sql, folder, settings).await.unwrap().unwrap();
    assert_ne!(key(), kept, "a service level changes them");
    ops.remove_sla("test", "check_in").unwrap();
    read_back
}

fn customers(pairs: &[(&str, &str)]) -> Restriction {
    Restriction {
        customers: pairs
            .iter()
            .map(|(c, v)| (c.to_string(), v.to_string()))
            .collect(),
        ..Restriction::default()
    }
}

#[tokio::test]
async fn views_of_groups_from_partials_equal_their_recomputation() {
    let (_dir, folder) = fresh().await;
    let world = cxray_core::world::World::airline();
    cxray_analysis::world::build(&folder, world, 20_000, 5, |_| {})
        .await
        .unwrap();
    cxray_analysis::world::value(&folder).await.unwrap();
    let sql = Sql::open(&folder, &BTreeMap::new()).await.unwrap();
    let state = snapshot::data_state(&sql, &folder).unwrap();
    let settings = ProductSettings::default();
    let groups = Groups::load(&sql, &folder, &settings)
        .await
        .unwrap()
        .expect("partials of the demo world");
    let read_back = kept_and_read_back(&folder, &sql, &settings).await;
    let views = [
        customers(&[("segment", "business")]),
        customers(&[("segment", "leisure")]),
        customers(&[("region", "asia")]),
        customers(&[("region", "nordics"), ("segment", "leisure")]),
        customers(&[("tier", "gold")]),
        customers(&[("home_airport", "CPH"), ("segment", "business")]),
    ];
    let mut with_weak_areas = 0;
    for r in views {
        let fast = snapshot::from_groups(&groups, &r, state.clone()).expect("answered");
        let again = snapshot::from_groups(&read_back, &r, state.clone()).expect("answered");
        let card = |s: &snapshot::Snapshot| serde_json::to_value(s.scorecard.as_ref().unwrap());
        // Equal up to the last bit of a decimal number read back from JSON.
        let mut diff = Vec::new();
        differences("", &card(&again).unwrap(), &card(&fast).unwrap(), &mut diff);
        assert!(diff.is_empty(), "{r:?} read back: {diff:#?}");
        let mut restricted = Sql::open(&folder, &BTreeMap::new()).await.unwrap();
        restricted.restrict(r.clone()).await.unwrap();
        let parts = [Part::Scorecard];
        let general = snapshot::compute(&restricted, &folder, state.clone(), &settings, &parts)
            .await
            .unwrap();
        let (a, b) = (
            serde_json::to_value(general.scorecard.as_ref().unwrap()).unwrap(),
            serde_json::to_value(fast.scorecard.as_ref().unwrap()).unwrap(),
        );
        let mut diff = Vec::new();
        differences("", &a, &b, &mut diff);
        assert!(diff.is_empty(), "{r:?}: {diff:#?}");
        assert!(a["retention"].as_array().is_some_and(|r| !r.is_empty()));
        with_weak_areas += usize::from(a["weak_areas"].as_array().is_some_and(|w| !w.is_empty()));
        assert!(a["satisfied_defector_share"].is_object(), "{r:?}");
        let quarter = &a["boards"][1];
        for by_period in ["revenue_at_risk", "satisfied_defectors"] {
            assert!(quarter[by_period]["value"].is_object(), "{r:?} {by_period}");
        }
        assert_eq!(general.customers, fast.customers, "{r:?}");
        let choices = |s: &snapshot::Snapshot| serde_json::to_value(&s.choices).unwrap();
        assert_eq!(choices(&general), choices(&fast), "{r:?}");
    }
    assert!(with_weak_areas > 0, "no view priced a weak area");
    // A period, a column that is not text, an empty value or a column named twice takes
    // the general path.
    let day = NaiveDate::from_ymd_opt(2024, 1, 1);
    let period = Restriction {
        from: day,
        ..customers(&[("segment", "business")])
    };
    let general = [
        period,
        customers(&[("first_seen", "2024-01-01T00:00:00Z")]),
        customers(&[("tier", "")]),
        customers(&[("tier", "gold"), ("tier", "silver")]),
    ];
    for r in general {
        assert!(snapshot::from_groups(&groups, &r, state.clone()).is_none());
    }
}

/// The cells are made of segment, region and the text attributes that keep them few: an
/// attribute with a value per customer, one that is not text, and one a touchpoint column
/// shadows in the answers' view are left to the general path.
#[tokio::test]
async fn cells_take_the_attributes_that_keep_them_few() {
    let (dir, folder) = fresh().await;
    let mut csv = String::from("customer_id,segment,region,tier,email,channel,visits\n");
    for i in 0..300 {
        let (segment, region, tier) = (["a", "b"][i % 2], ["n", "s"][i / 2 % 2], i % 3);
        let channel = ["app", "web"][i % 2];
        csv += &format!("C{i},{segment},{region},t{tier},c{i}@example.com,{channel},{i}\n");
    }
    let path = dir.path().join("customers.csv");
    std::fs::write(&path, csv).unwrap();
    let options = cxray_store::import::ImportOptions {
        actor: "test".into(),
        ..Default::default()
    };
    let table = cxray_core::domain::Table::Customers;
    let progress = std::sync::Arc::new(cxray_store::import::NoProgress);
    cxray_store::import::import(&folder, table, &[path], &options, progress)
        .await
        .unwrap();
    let sql = Sql::open(&folder, &BTreeMap::new()).await.unwrap();
    let columns = cxray_analysis::groups::cell_columns(&sql).await.unwrap();
    assert_eq!(columns.unwrap(), ["segment", "region", "tier"]);
}

use crate::erased::*;

#[test]
fn the_list_refuses_its_customers_under_the_refuse_rule_only() {
    let (_dir, db) = db();
    assert!(!Erased::load(&db, ErasedRows::Refuse).unwrap().refuses("c1"));
    let key = db.pseudonym_key().unwrap();
    suppress(&db, &[erasure_hash(&key, "c1")]).unwrap();
    let refused = Erased::load(&db, ErasedRows::Refuse).unwrap();
    assert!(refused.refuses("c1"));
    assert!(!refused.refuses("c2") && !refused.refuses("C1"));
    assert!(!Erased::load(&db, ErasedRows::Accept).unwrap().refuses("c1"));
}

//! VADER against its reference implementation: vaderSentiment 3.3.2's compound scores of
//! its published examples, of sentences written for each rule and of generated ones
//! (`vader/reference.py` wrote `vader/reference.ndjson`).

use cxray_core::comments::vader::compound;

#[test]
fn compound_scores_match_the_reference_to_1e_4() {
    let mut checked = [0usize; 3];
    let mut off = Vec::new();
    for line in include_str!("vader/reference.ndjson").lines() {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        let text = case["text"].as_str().unwrap();
        let want = case["compound"].as_f64().unwrap();
        let got = compound(text);
        // The reference rounds to 4 decimals; ours is unrounded.
        if (got - want).abs() > 0.5e-4 + 1e-9 {
            off.push(format!("{text:?}: {got:.6} vs {want}"));
        }
        let set = ["published", "rules", "random"]
            .iter()
            .position(|s| case["set"] == *s);
        checked[set.unwrap()] += 1;
    }
    assert!(off.is_empty(), "{} differ:\n{}", off.len(), off.join("\n"));
    assert_eq!(checked, [52, 92, 3000]);
}

//! Journey order from what customers do: the touchpoints are taken one by one, each time
//! the one whose customers most go on to the remaining others rather than come from them
//! (the greedy order of Eades, Lin and Smyth for a graph with loops, weighted by the
//! customers going from one straight to the other), so a chain of stages comes out in
//! the order customers pass through it, and a loop is cut where fewest go round.

use std::collections::BTreeMap;

use super::handoffs::Pair;

/// Each touchpoint's step (0, 1, …) in the order customers pass through them.
pub(super) fn steps(pairs: &[Pair]) -> BTreeMap<String, usize> {
    let mut flow: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for p in pairs
        .iter()
        .filter(|p| p.from_touchpoint != p.to_touchpoint)
    {
        *flow
            .entry((&p.from_touchpoint, &p.to_touchpoint))
            .or_default() += p.count;
    }
    let weight = |a: &str, b: &str| flow.get(&(a, b)).copied().unwrap_or(0);
    let mut left: Vec<&str> = flow.keys().flat_map(|(a, b)| [*a, *b]).collect();
    left.sort_unstable();
    left.dedup();
    let mut out = BTreeMap::new();
    while !left.is_empty() {
        // Next: the fewest customers arriving from the remaining ones, net of those
        // leaving to them.
        let key = |b: &str| -> i128 {
            let arriving = left.iter().map(|a| weight(a, b) as i128);
            arriving.sum::<i128>() - left.iter().map(|a| weight(b, a) as i128).sum::<i128>()
        };
        let (i, _) = left
            .iter()
            .enumerate()
            .min_by_key(|(_, b)| key(b))
            .expect("not empty");
        out.insert(left.remove(i).to_string(), out.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(from: &str, to: &str, count: u64) -> Pair {
        Pair {
            from_touchpoint: from.into(),
            from_owner: None,
            to_touchpoint: to.into(),
            to_owner: None,
            count,
            failed: 0,
        }
    }

    #[test]
    fn a_chain_comes_out_in_the_order_customers_pass_through_it() {
        let pairs = [
            pair("security", "boarding", 90),
            pair("check_in", "bag_drop", 80),
            pair("bag_drop", "security", 70),
            pair("booking", "check_in", 100),
            pair("check_in", "security", 20),
            // Some go back: fewer than go forward.
            pair("security", "check_in", 3),
            // A loop: boarding → booking (the next trip) is weaker than the chain.
            pair("boarding", "booking", 10),
        ];
        let steps = steps(&pairs);
        let mut order: Vec<(&usize, &String)> = steps.iter().map(|(t, s)| (s, t)).collect();
        order.sort();
        let names: Vec<&str> = order.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            names,
            ["booking", "check_in", "bag_drop", "security", "boarding"]
        );
        assert!(super::steps(&[]).is_empty());
    }
}

//! How well the topics assigned to comments agree with known ones (those planted in a
//! simulated world): per topic, precision (of the comments assigned it, the share that
//! have it) and recall (of the comments that have it, the share assigned it), each with
//! its Wilson interval; overall, the counts of all topics together (micro-averaged).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::stats::{Estimate, Settings, share};

/// A topic's comments by whether it was assigned and whether it is known to be there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Confusion {
    /// Assigned and there.
    pub hits: u64,
    /// Assigned but not there.
    pub false_alarms: u64,
    /// There but not assigned.
    pub misses: u64,
}

impl Confusion {
    /// hits / (hits + false alarms), as a fraction; none when it was never assigned.
    pub fn precision(&self, s: &Settings) -> Option<Estimate> {
        share(self.hits, self.hits + self.false_alarms, s)
    }

    /// hits / (hits + misses), as a fraction; none when it was never there.
    pub fn recall(&self, s: &Settings) -> Option<Estimate> {
        share(self.hits, self.hits + self.misses, s)
    }

    fn merge(&mut self, other: &Confusion) {
        self.hits += other.hits;
        self.false_alarms += other.false_alarms;
        self.misses += other.misses;
    }
}

/// Assigned against known topics, counted by topic name over comments.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Agreement {
    topics: BTreeMap<String, Confusion>,
}

impl Agreement {
    /// Counts one comment's assigned and known topics (a name listed twice counts once).
    pub fn add<A: AsRef<str>, K: AsRef<str>>(&mut self, assigned: &[A], known: &[K]) {
        let assigned: Vec<&str> = assigned.iter().map(AsRef::as_ref).collect();
        let known: Vec<&str> = known.iter().map(AsRef::as_ref).collect();
        let mut names: Vec<&str> = assigned.iter().chain(&known).copied().collect();
        names.sort_unstable();
        names.dedup();
        for name in names {
            let c = self.topics.entry(name.to_string()).or_default();
            match (assigned.contains(&name), known.contains(&name)) {
                (true, true) => c.hits += 1,
                (true, false) => c.false_alarms += 1,
                (false, _) => c.misses += 1,
            }
        }
    }

    /// Adds the counts of other comments.
    pub fn merge(&mut self, other: &Agreement) {
        for (name, c) in &other.topics {
            self.topics.entry(name.clone()).or_default().merge(c);
        }
    }

    /// The counts of one topic (zero if never assigned nor known).
    pub fn topic(&self, name: &str) -> Confusion {
        self.topics.get(name).copied().unwrap_or_default()
    }

    /// Every topic assigned or known, by name.
    pub fn topics(&self) -> impl Iterator<Item = (&str, Confusion)> {
        self.topics.iter().map(|(n, c)| (n.as_str(), *c))
    }

    /// All topics' counts together (micro-averaged precision and recall).
    pub fn overall(&self) -> Confusion {
        let mut all = Confusion::default();
        self.topics.values().for_each(|c| all.merge(c));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_and_recall_by_topic_and_overall() {
        let mut a = Agreement::default();
        let mut b = Agreement::default();
        a.add(&["baggage", "crew"], &["baggage"]);
        a.add(&["baggage"], &["baggage", "food"]);
        b.add(&[] as &[&str], &["crew"]);
        b.add(&["food", "food"], &["food"]);
        a.merge(&b);
        let s = Settings::default();
        let value = |e: Option<Estimate>| e.map(|e| e.value);
        let baggage = a.topic("baggage");
        assert_eq!(
            (baggage.hits, baggage.false_alarms, baggage.misses),
            (2, 0, 0)
        );
        let crew = a.topic("crew");
        assert_eq!(
            (value(crew.precision(&s)), value(crew.recall(&s))),
            (Some(0.0), Some(0.0))
        );
        let food = a.topic("food");
        assert_eq!(
            (value(food.precision(&s)), value(food.recall(&s))),
            (Some(1.0), Some(0.5))
        );
        assert_eq!(a.topic("seat"), Confusion::default());
        assert_eq!(a.topic("seat").precision(&s), None);
        let all = a.overall();
        assert_eq!((all.hits, all.false_alarms, all.misses), (3, 1, 2));
        assert_eq!(value(all.recall(&s)), Some(0.6));
        let names: Vec<&str> = a.topics().map(|(n, _)| n).collect();
        assert_eq!(names, ["baggage", "crew", "food"]);
    }
}

//! What owners and partners see of the comment analyses: no figure of fewer comments than
//! the minimum group size (the server's, as for filtered views). Groups below it are left
//! out; an analysis whose comments as a whole are fewer is withheld. Example comments are
//! single comments, not figures, and are shown (partners' by pseudonym).

use super::Computed;

/// Why an analysis is withheld.
pub fn note(min: u64) -> String {
    format!(
        "These filters leave fewer than {min} comments: figures for groups this small are withheld for your role. Widen the filters."
    )
}

/// The analysis without its groups of fewer than `min` comments, or
/// [`Computed::Withheld`] when all its comments are fewer.
pub fn withheld(c: &Computed, min: u64) -> Computed {
    let big = |n: u64| n >= min;
    let mut c = c.clone();
    match &mut c {
        Computed::Sentiment(r) if !big(r.overall.comments) => return Computed::Withheld,
        Computed::Sentiment(r) => r.groups.retain(|g| big(g.sentiment.comments)),
        Computed::Topics(r) if !big(r.comments) => return Computed::Withheld,
        Computed::Topics(r) => {
            r.topics.retain(|t| big(t.comments));
            for t in &mut r.topics {
                t.series.retain(|p| big(p.comments));
            }
            if let Some(d) = &mut r.discovered {
                let kept: Vec<bool> = (d.discovered.topics.iter())
                    .map(|t| big(t.comments as u64))
                    .collect();
                let mut keep = kept.iter();
                d.discovered
                    .topics
                    .retain(|_| *keep.next().unwrap_or(&false));
                let mut keep = kept.iter();
                d.promotions.retain(|_| *keep.next().unwrap_or(&false));
            }
        }
        Computed::Terms(r) if !big(r.terms.comments_a) || !big(r.terms.comments_b) => {
            return Computed::Withheld;
        }
        Computed::Terms(_) | Computed::Examples(_) | Computed::Withheld => {}
    }
    c
}

#[cfg(test)]
mod tests {
    use cxray_analysis::comments::{GroupSentiment, SentimentReport};
    use cxray_core::comments::Sentiment;

    use super::*;

    fn sentiment(comments: u64) -> Sentiment {
        Sentiment {
            comments,
            scored: comments,
            other_language: 0,
            unknown_language: 0,
            mean: None,
        }
    }

    #[test]
    fn groups_below_the_minimum_are_left_out_and_a_small_whole_is_withheld() {
        let report = |overall| SentimentReport {
            by: Some("touchpoint".into()),
            overall: sentiment(overall),
            groups: [("a", 19), ("b", 20)]
                .map(|(g, n)| GroupSentiment {
                    group: Some(g.into()),
                    sentiment: sentiment(n),
                })
                .to_vec(),
        };
        let Computed::Sentiment(kept) = withheld(&Computed::Sentiment(report(39)), 20) else {
            panic!("kept");
        };
        let groups: Vec<_> = kept.groups.iter().map(|g| g.group.as_deref()).collect();
        assert_eq!(groups, [Some("b")]);
        let whole = withheld(&Computed::Sentiment(report(19)), 20);
        assert!(matches!(whole, Computed::Withheld));
    }
}

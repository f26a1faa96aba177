//! A respondent's answer to a survey, read from the survey page's form fields: every
//! scored question answered with one of its scores, the comment within its length; any
//! other field, or a field twice, means the form was not the one shown.

use super::Survey;
use super::survey::MAX_COMMENT_CHARS;
use crate::stats::Instrument;

/// A complete, valid answer: a score per question, in the survey's order, and the
/// comment (empty when none was written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub scores: Vec<(Instrument, u8)>,
    pub comment: String,
}

/// What is wrong with one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// A question left unanswered.
    Missing,
    /// A score that is not one of the question's answers.
    Invalid,
    /// A comment longer than [`MAX_COMMENT_CHARS`].
    TooLong,
}

/// A form that cannot be taken: what was given (so the page can show it again), the
/// problem of each field that has one, and whether fields other than the survey's came.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Refusal {
    pub given: Given,
    /// The questions' problems; the comment's under `None`.
    pub problems: Vec<(Option<Instrument>, Problem)>,
    /// Unknown or repeated fields.
    pub stray: bool,
}

/// The valid parts of a form, to fill it in again.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Given {
    pub scores: Vec<(Instrument, u8)>,
    pub comment: String,
}

impl Given {
    /// The score given to `question`, if a valid one was.
    pub fn score(&self, question: Instrument) -> Option<u8> {
        self.scores
            .iter()
            .find(|(q, _)| *q == question)
            .map(|(_, s)| *s)
    }
}

impl From<Answer> for Given {
    fn from(a: Answer) -> Self {
        Given {
            scores: a.scores,
            comment: a.comment,
        }
    }
}

/// Reads a survey's form fields (name, value) into an answer.
pub fn read(survey: &Survey, fields: &[(String, String)]) -> Result<Answer, Refusal> {
    let mut refusal = Refusal::default();
    let mut seen: Vec<&str> = Vec::with_capacity(fields.len());
    for (name, _) in fields {
        let known = name == "comment" && survey.comment
            || survey.questions.iter().any(|q| q.name() == name);
        refusal.stray |= !known || seen.contains(&name.as_str());
        seen.push(name);
    }
    let value = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
    };
    for &q in &survey.questions {
        match value(q.name())
            .filter(|v| !v.is_empty())
            .map(|v| score(q, v))
        {
            None => refusal.problems.push((Some(q), Problem::Missing)),
            Some(None) => refusal.problems.push((Some(q), Problem::Invalid)),
            Some(Some(s)) => refusal.given.scores.push((q, s)),
        }
    }
    let comment = value("comment").unwrap_or_default();
    match comment.chars().count() > MAX_COMMENT_CHARS {
        true => refusal.problems.push((None, Problem::TooLong)),
        false => refusal.given.comment = comment.to_string(),
    }
    match refusal.problems.is_empty() && !refusal.stray {
        true => Ok(Answer {
            scores: refusal.given.scores,
            comment: refusal.given.comment,
        }),
        false => Err(refusal),
    }
}

/// A score as the form sends it: the digits of one of the question's answers.
fn score(question: Instrument, text: &str) -> Option<u8> {
    let (lo, hi) = question.range();
    let digits = !text.is_empty() && text.len() <= 2 && text.bytes().all(|b| b.is_ascii_digit());
    let s: u8 = digits.then(|| text.parse().ok()).flatten()?;
    (lo..=hi).contains(&s).then_some(s)
}

impl Answer {
    /// The scores as stored: `nps=9;csat=4`, in the survey's order.
    pub fn scores_text(&self) -> String {
        let parts: Vec<String> = self
            .scores
            .iter()
            .map(|(q, s)| format!("{}={s}", q.name()))
            .collect();
        parts.join(";")
    }

    /// Scores as [`Answer::scores_text`] wrote them; `None` for any other text.
    pub fn parse_scores(text: &str) -> Option<Vec<(Instrument, u8)>> {
        text.split(';')
            .map(|part| {
                let (name, s) = part.split_once('=')?;
                let q = Instrument::ALL.into_iter().find(|q| q.name() == name)?;
                Some((q, score(q, s)?))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surveys::survey::tests::survey;
    use proptest::prelude::*;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_complete_form_is_an_answer_and_round_trips_as_text() {
        let a = read(
            &survey(),
            &fields(&[("nps", "9"), ("csat", " 4 "), ("comment", " Fine. ")]),
        )
        .unwrap();
        assert_eq!(a.scores, vec![(Instrument::Nps, 9), (Instrument::Csat, 4)]);
        assert_eq!(a.comment, "Fine.");
        assert_eq!(a.scores_text(), "nps=9;csat=4");
        assert_eq!(Answer::parse_scores(&a.scores_text()), Some(a.scores));
        assert_eq!(Answer::parse_scores("nps=11"), None);
    }

    #[test]
    fn each_problem_is_named_by_its_field() {
        let long = "x".repeat(MAX_COMMENT_CHARS + 1);
        let r = read(&survey(), &fields(&[("nps", "11"), ("comment", &long)])).unwrap_err();
        assert_eq!(
            r.problems,
            vec![
                (Some(Instrument::Nps), Problem::Invalid),
                (Some(Instrument::Csat), Problem::Missing),
                (None, Problem::TooLong)
            ]
        );
        assert!(!r.stray);
        let r = read(
            &survey(),
            &fields(&[("nps", "9"), ("csat", "4"), ("csat", "5")]),
        )
        .unwrap_err();
        assert!(r.stray && r.problems.is_empty());
        assert_eq!(r.given.score(Instrument::Csat), Some(4));
    }

    proptest! {
        /// Whatever the fields, an answer has every question with a score in its range
        /// and a comment within the limit; anything else is refused.
        #[test]
        fn only_complete_valid_forms_are_answers(
            nps in proptest::option::of("[-+ 0-9a-z.]{0,4}"),
            csat in proptest::option::of("[0-9]{0,3}"),
            comment in proptest::option::of(".{0,5}"),
            extra in proptest::option::of("x[a-z]{0,5}"),
        ) {
            let mut f = Vec::new();
            for (name, value) in [("nps", &nps), ("csat", &csat), ("comment", &comment)] {
                if let Some(v) = value {
                    f.push((name.to_string(), v.clone()));
                }
            }
            if let Some(x) = &extra {
                f.push((x.clone(), "1".into()));
            }
            let valid = |v: &Option<String>, hi: u8, lo: u8| v.as_deref().map(str::trim).is_some_and(|t| {
                !t.is_empty() && t.len() <= 2 && t.bytes().all(|b| b.is_ascii_digit())
                    && t.parse::<u8>().is_ok_and(|s| (lo..=hi).contains(&s))
            });
            let ok = valid(&nps, 10, 0) && valid(&csat, 5, 1) && extra.is_none();
            prop_assert_eq!(read(&survey(), &f).is_ok(), ok);
        }
    }
}

//! Page and API filters: a date range, the customers' segment and region, and any other
//! customers' column equal to a value. A filtered request is answered from a snapshot
//! computed for that population and period.

use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

pub use cxray_analysis::snapshot::Choices;
use cxray_store::sql::Restriction;

use crate::html::escape;

/// The range of dates a filter may name (year, day of the year): wide enough for any
/// business data, narrow enough for every time type the tables use.
const FIRST_DAY: (i32, u32) = (1900, 1);
const LAST_DAY: (i32, u32) = (2199, 366);

/// The filters of a request (`?from=2025-01-01&to=2025-03-31&segment=business&region=…`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq, Hash)]
pub struct Filters {
    pub from: Option<String>,
    pub to: Option<String>,
    pub segment: Option<String>,
    pub region: Option<String>,
    /// Any other customers' column, and the value it must have.
    pub attribute: Option<String>,
    pub value: Option<String>,
}

impl Filters {
    /// The filters with empty form fields dropped and dates checked.
    pub fn normalised(self) -> Result<Filters, String> {
        let keep = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let f = Filters {
            from: keep(self.from),
            to: keep(self.to),
            segment: keep(self.segment),
            region: keep(self.region),
            attribute: keep(self.attribute),
            value: keep(self.value),
        };
        if f.attribute.is_some() != f.value.is_some() {
            return Err("attribute and value go together".into());
        }
        for (name, day) in [("from", &f.from), ("to", &f.to)] {
            if let Some(d) = day {
                let date = d
                    .parse::<NaiveDate>()
                    .map_err(|_| format!("{name} '{d}': a date like 2025-01-31"))?;
                if !(FIRST_DAY..=LAST_DAY).contains(&(date.year(), date.ordinal())) {
                    return Err(format!(
                        "{name} '{d}': a date between 1900-01-01 and 2199-12-31"
                    ));
                }
            }
        }
        Ok(f)
    }

    pub fn is_empty(&self) -> bool {
        *self == Filters::default()
    }

    /// Fails unless the attribute is one of `columns` (the customers' columns).
    pub fn check_attribute(&self, columns: &[String]) -> Result<(), String> {
        match &self.attribute {
            Some(a) if !columns.contains(a) => Err(format!(
                "attribute '{a}': customers have {}",
                columns.join(", ")
            )),
            _ => Ok(()),
        }
    }

    /// What the filters narrow the analyses to (call [`Filters::check_attribute`]
    /// first): the customers whose columns equal the chosen values, and the days.
    pub fn restriction(&self) -> Restriction {
        let day = |d: &Option<String>| d.as_deref().and_then(|d| d.parse::<NaiveDate>().ok());
        let attribute = self.attribute.as_deref().zip(self.value.as_ref());
        let customers = [("segment", &self.segment), ("region", &self.region)]
            .into_iter()
            .filter_map(|(c, v)| Some((c, v.as_ref()?)))
            .chain(attribute)
            .map(|(c, v)| (c.to_string(), v.clone()))
            .collect();
        Restriction {
            customers,
            from: day(&self.from),
            to: day(&self.to),
        }
    }

    /// The filters as a query string for links (`?…`, or empty).
    pub fn query(&self) -> String {
        let pairs: Vec<String> = [
            ("from", &self.from),
            ("to", &self.to),
            ("segment", &self.segment),
            ("region", &self.region),
            ("attribute", &self.attribute),
            ("value", &self.value),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some(format!("{k}={}", encode(v.as_deref()?))))
        .collect();
        match pairs.is_empty() {
            true => String::new(),
            false => format!("?{}", pairs.join("&")),
        }
    }

    /// The filter form, choices from the data.
    pub fn form(&self, action: &str, choices: &Choices) -> String {
        format!(
            "<form class=\"filters\" method=\"get\" action=\"{}\" aria-label=\"filters\">{}\
             <button type=\"submit\">Apply</button> <a href=\"{}\">clear</a></form>",
            escape(action),
            self.fields(choices),
            escape(action),
        )
    }

    /// The form's fields (for forms that add their own).
    pub fn fields(&self, choices: &Choices) -> String {
        let select = |name: &str, current: &Option<String>, options: &[String]| {
            let opts: String = options
                .iter()
                .map(|o| {
                    let selected = if current.as_deref() == Some(o) {
                        " selected"
                    } else {
                        ""
                    };
                    format!("<option{selected}>{}</option>", escape(o))
                })
                .collect();
            format!(
                "<label>{name}<select name=\"{name}\"><option value=\"\">all</option>{opts}</select></label>"
            )
        };
        let date = |name: &str, v: &Option<String>| {
            format!(
                "<label>{name}<input type=\"date\" name=\"{name}\" value=\"{}\"></label>",
                escape(v.as_deref().unwrap_or(""))
            )
        };
        format!(
            "{}{}{}{}{}<label>value<input name=\"value\" value=\"{}\"></label>",
            date("from", &self.from),
            date("to", &self.to),
            select("segment", &self.segment, &choices.segments),
            select("region", &self.region, &choices.regions),
            select("attribute", &self.attribute, &choices.attributes),
            escape(self.value.as_deref().unwrap_or("")),
        )
    }
}

/// Percent-encodes a query value.
pub(crate) fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_become_sql_and_links() {
        let f = Filters {
            from: Some("2025-01-01".into()),
            to: Some(" 2025-03-31 ".into()),
            segment: Some("it's".into()),
            region: Some(String::new()),
            attribute: Some("tier".into()),
            value: Some("gold".into()),
        }
        .normalised()
        .unwrap();
        let r = f.restriction();
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        assert_eq!(r.customers, pairs(&[("segment", "it's"), ("tier", "gold")]));
        assert!(f.check_attribute(&["tier".into()]).is_ok());
        let unknown = f.check_attribute(&["segment".into()]).unwrap_err();
        assert!(unknown.contains("attribute 'tier'"), "{unknown}");
        assert_eq!(
            (r.from.unwrap().to_string(), r.to.unwrap().to_string()),
            ("2025-01-01".into(), "2025-03-31".into())
        );
        assert_eq!(
            f.query(),
            "?from=2025-01-01&to=2025-03-31&segment=it%27s&attribute=tier&value=gold"
        );
        let bad = Filters {
            from: Some("yesterday".into()),
            ..Filters::default()
        };
        assert!(bad.normalised().unwrap_err().contains("from 'yesterday'"));
    }
}

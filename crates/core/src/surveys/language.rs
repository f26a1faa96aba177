//! The languages surveys are written in, and which one a respondent gets: the customer's
//! own (a `language` column of customers), else the browser's preference
//! (`Accept-Language`), else the survey's first language.

/// The languages with built-in texts: code and name (in the language itself).
pub const LANGUAGES: [(&str, &str); 4] = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("fr", "Français"),
    ("es", "Español"),
];

/// The name of a language code for people, or `None` when it has no built-in texts.
pub fn language_name(code: &str) -> Option<&'static str> {
    LANGUAGES.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// The language a respondent gets among `offered` (the survey's languages, the first the
/// default): the customer's if offered, else the first offered one of the browser's
/// `Accept-Language` by preference, else the default.
pub fn pick_language<'a>(
    offered: &'a [String],
    customer: Option<&str>,
    accept_language: Option<&str>,
) -> &'a str {
    let find = |code: &str| offered.iter().find(|o| o.as_str() == primary(code));
    let preferred = accept_language.map(preferences).unwrap_or_default();
    customer
        .and_then(find)
        .or_else(|| preferred.iter().find_map(|code| find(code)))
        .or(offered.first())
        .map_or("en", String::as_str)
}

/// The primary subtag of a language tag, lower case (`de-CH` → `de`).
fn primary(tag: &str) -> String {
    tag.trim()
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// The tags of an `Accept-Language` header by falling quality (ties keep their order);
/// tags with quality 0 or an unreadable quality are left out.
fn preferences(header: &str) -> Vec<String> {
    let mut tags: Vec<(f64, String)> = header
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim();
            let q = match parts.find_map(|p| p.trim().strip_prefix("q=")) {
                Some(q) => q.trim().parse::<f64>().ok()?,
                None => 1.0,
            };
            (q > 0.0 && !tag.is_empty() && tag != "*").then(|| (q, tag.to_string()))
        })
        .collect();
    tags.sort_by(|a, b| b.0.total_cmp(&a.0));
    tags.into_iter().map(|(_, t)| t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn offered() -> Vec<String> {
        vec!["en".into(), "de".into()]
    }

    #[test]
    fn the_customer_then_the_browser_then_the_default() {
        let o = offered();
        assert_eq!(pick_language(&o, Some("de"), Some("fr")), "de");
        assert_eq!(pick_language(&o, Some("DE-at"), None), "de");
        assert_eq!(pick_language(&o, Some("fr"), Some("fr;q=0.9, de-CH")), "de");
        assert_eq!(
            pick_language(&o, None, Some("fr, de;q=0.5, en;q=0.7")),
            "en"
        );
        assert_eq!(pick_language(&o, None, Some("de;q=0, fr")), "en");
        assert_eq!(pick_language(&o, None, None), "en");
        assert_eq!(language_name("fr"), Some("Français"));
        assert_eq!(language_name("xx"), None);
    }

    proptest! {
        /// Whatever the header says, the pick is one of the offered languages.
        #[test]
        fn the_pick_is_always_offered(header in ".{0,40}", customer in proptest::option::of("[a-zA-Z-]{0,6}")) {
            let o = offered();
            let pick = pick_language(&o, customer.as_deref(), Some(&header));
            prop_assert!(o.iter().any(|l| l == pick));
        }
    }
}

//! The pieces of the administration forms: labelled fields with the refusal shown next to
//! the field it concerns, option lists by display name, and one-button forms for the
//! actions in a table row. Every value is escaped.

use crate::html::escape;

/// Why a change was refused: the field it concerns (its form name), if one, and the
/// store's message.
#[derive(Debug, Clone)]
pub struct Problem {
    pub field: Option<&'static str>,
    pub message: String,
}

impl Problem {
    /// The refusal of a form's value from the store's error, or `None` when the error is
    /// not the request's fault.
    pub fn of(e: &cxray_store::StoreError) -> Option<Problem> {
        if e.kind() != cxray_store::ErrorKind::BadInput {
            return None;
        }
        let field = match e {
            cxray_store::StoreError::Invalid { field, .. } => Some(*field),
            _ => None,
        };
        Some(Problem {
            field,
            message: e.to_string(),
        })
    }
}

/// What a field shows: its name, label, the value entered and a hint.
pub struct Field<'a> {
    pub name: &'static str,
    pub label: &'a str,
    pub value: &'a str,
    pub hint: &'a str,
}

impl<'a> Field<'a> {
    pub fn new(name: &'static str, label: &'a str, value: &'a str) -> Self {
        Field {
            name,
            label,
            value,
            hint: "",
        }
    }

    pub fn hint(self, hint: &'a str) -> Self {
        Field { hint, ..self }
    }

    /// A text input of `kind` (`text`, `email`, `number`…), with a list of suggestions
    /// when `suggest` is not empty.
    pub fn input(&self, kind: &str, problem: Option<&Problem>, suggest: &[String]) -> String {
        let list = match suggest.is_empty() {
            true => String::new(),
            false => format!(" list=\"{}-list\"", self.name),
        };
        let options: String = suggest
            .iter()
            .map(|s| format!("<option value=\"{}\">", escape(s)))
            .collect();
        let datalist = match suggest.is_empty() {
            true => String::new(),
            false => format!("<datalist id=\"{}-list\">{options}</datalist>", self.name),
        };
        let step = if kind == "number" {
            " step=\"any\""
        } else {
            ""
        };
        let control = format!(
            "<input type=\"{kind}\" id=\"{n}\" name=\"{n}\" value=\"{v}\"{step}{list}{a}>{datalist}",
            n = self.name,
            v = escape(self.value),
            a = self.aria(problem),
        );
        self.wrap(&control, problem)
    }

    /// A choice among `options` (value, display name), the entered value selected.
    pub fn select(&self, options: &[(&str, &str)], problem: Option<&Problem>) -> String {
        let options: String = options
            .iter()
            .map(|(value, label)| {
                let selected = if *value == self.value {
                    " selected"
                } else {
                    ""
                };
                format!(
                    "<option value=\"{}\"{selected}>{}</option>",
                    escape(value),
                    escape(label)
                )
            })
            .collect();
        let control = format!(
            "<select id=\"{n}\" name=\"{n}\"{a}>{options}</select>",
            n = self.name,
            a = self.aria(problem),
        );
        self.wrap(&control, problem)
    }

    /// Check boxes named after the field, one per option (value, display name), those in
    /// `checked` ticked.
    pub fn checkboxes(
        &self,
        options: &[(&str, &str)],
        checked: &[String],
        problem: Option<&Problem>,
    ) -> String {
        let boxes: String = options
            .iter()
            .map(|(value, label)| {
                let on = if checked.iter().any(|c| c == value) { " checked" } else { "" };
                format!(
                    "<label class=\"check\"><input type=\"checkbox\" name=\"{}\" value=\"{}\"{on}> {}</label>",
                    self.name,
                    escape(value),
                    escape(label)
                )
            })
            .collect();
        let legend = format!("<legend>{}</legend>", escape(self.label));
        let error = error(self.name, problem);
        format!(
            "<fieldset{}>{legend}{boxes}{}{error}</fieldset>",
            self.described(problem),
            hint(self.name, self.hint)
        )
    }

    /// `aria-invalid` when the problem is this field's, and [`Field::described`].
    fn aria(&self, problem: Option<&Problem>) -> String {
        let invalid = match self.wrong(problem) {
            true => " aria-invalid=\"true\"",
            false => "",
        };
        format!("{invalid}{}", self.described(problem))
    }

    /// `aria-describedby` with the ids of the hint and the error, when there are any.
    fn described(&self, problem: Option<&Problem>) -> String {
        let hint = (!self.hint.is_empty()).then(|| format!("{}-hint", self.name));
        let error = self.wrong(problem).then(|| format!("{}-error", self.name));
        let ids: Vec<String> = hint.into_iter().chain(error).collect();
        match ids.is_empty() {
            true => String::new(),
            false => format!(" aria-describedby=\"{}\"", ids.join(" ")),
        }
    }

    fn wrong(&self, problem: Option<&Problem>) -> bool {
        problem.is_some_and(|p| p.field == Some(self.name))
    }

    fn wrap(&self, control: &str, problem: Option<&Problem>) -> String {
        format!(
            "<p class=\"field\"><label for=\"{n}\">{l}</label>{control}{h}{e}</p>",
            n = self.name,
            l = escape(self.label),
            h = hint(self.name, self.hint),
            e = error(self.name, problem),
        )
    }
}

fn hint(name: &str, hint: &str) -> String {
    match hint.is_empty() {
        true => String::new(),
        false => format!(
            "<span class=\"hint\" id=\"{name}-hint\">{}</span>",
            escape(hint)
        ),
    }
}

/// The refusal, when it concerns field `name`.
fn error(name: &str, problem: Option<&Problem>) -> String {
    match problem {
        Some(p) if p.field == Some(name) => format!(
            "<strong class=\"error\" id=\"{name}-error\" role=\"alert\">{}</strong>",
            escape(&p.message)
        ),
        _ => String::new(),
    }
}

/// The refusal of no particular field, above the forms.
pub fn general(problem: Option<&Problem>) -> String {
    match problem {
        Some(p) if p.field.is_none() => {
            format!(
                "<p class=\"error\" role=\"alert\">{}</p>",
                escape(&p.message)
            )
        }
        _ => String::new(),
    }
}

/// A form posting `fields` (HTML) with the session's form token to `action`.
pub fn form(action: &str, csrf: &str, title: &str, fields: &str, button: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{action}\" class=\"admin\" aria-label=\"{t}\">\
         <h2>{t}</h2><input type=\"hidden\" name=\"csrf\" value=\"{c}\">{fields}\
         <p><button type=\"submit\">{b}</button></p></form>",
        t = escape(title),
        c = escape(csrf),
        b = escape(button),
    )
}

/// A one-button form for a table row, sending `hidden` fields: with the session's form
/// token a post (a change), without one a get (filling the section's form: nothing
/// changes). The button reads `label` and is announced as `label` and `what` (the row).
pub fn button(
    action: &str,
    csrf: Option<&str>,
    hidden: &[(&str, &str)],
    (label, what): (&str, &str),
) -> String {
    let token = csrf.map(|c| ("csrf", c));
    let fields: String = token
        .iter()
        .chain(hidden)
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{k}\" value=\"{}\">",
                escape(v)
            )
        })
        .collect();
    let method = if csrf.is_some() { "post" } else { "get" };
    format!(
        "<form method=\"{method}\" action=\"{action}\" class=\"row\">{fields}\
         <button type=\"submit\" aria-label=\"{l} {w}\">{l}</button></form>",
        l = escape(label),
        w = escape(what),
    )
}

/// The number entered in `field` (`None` when empty), or a refusal naming the field.
pub fn number<T: std::str::FromStr>(
    field: &'static str,
    label: &str,
    text: &str,
) -> Result<Option<T>, cxray_store::StoreError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let message = || format!("{label} '{t}': not a number");
    t.parse()
        .map(Some)
        .map_err(|_| cxray_store::StoreError::invalid(field, message()))
}

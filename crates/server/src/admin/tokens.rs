//! API tokens: the list (never the tokens), creating one with scopes (shown once), and
//! revoking one.

use axum::response::Response;
use cxray_core::access::{Scope, parse_scopes};
use cxray_store::StoreError;
use cxray_store::accounts::TokenInfo;
use serde::Deserialize;

use super::form::{Field, button, form};
use super::{
    Change, Ctx, Done, Numbered, Section, Shown, answer, compose, from_pairs, listing, posted,
};
use crate::html::escape;

pub struct Tokens;

/// The form creating a token (its scopes are check boxes of one name, hence read from
/// the pairs).
#[derive(Default, Deserialize)]
#[serde(from = "Vec<(String, String)>")]
pub struct Entered {
    csrf: String,
    email: String,
    name: String,
    scopes: Vec<String>,
}

from_pairs!(Entered { csrf, email, name; scopes });

posted!(Entered);

impl Section for Tokens {
    const PATH: &'static str = "/admin/tokens";
    const TITLE: &'static str = "API tokens";
    type Entered = Entered;

    async fn body(ctx: &Ctx, shown: Shown<'_, Entered>) -> Result<String, StoreError> {
        let listed = crate::ops(&ctx.state, |db| Ok((db.api_tokens()?, db.users()?)));
        let (tokens, users) = listed.await?;
        let emails: Vec<String> = users
            .into_iter()
            .filter(|u| !u.disabled)
            .map(|u| u.email)
            .collect();
        let csrf = &ctx.user.csrf;
        let rows: Vec<Vec<String>> = tokens.iter().map(|t| row(t, csrf)).collect();
        let headers = [
            ("Id", true),
            ("Name", false),
            ("Acts as", false),
            ("May", false),
            ("Created", false),
            ("Status", false),
            ("Actions", false),
        ];
        let list = listing("API tokens (only their hashes are kept)", &headers, &rows);
        Ok(compose(shown.problem, list, add_form(csrf, shown, &emails)))
    }
}

/// The display names of scopes, joined.
fn labels(scopes: &[Scope]) -> String {
    let labels: Vec<&str> = scopes.iter().map(|s| s.label()).collect();
    labels.join("; ")
}

fn row(t: &TokenInfo, csrf: &str) -> Vec<String> {
    let id = t.id.to_string();
    let action = match t.revoked {
        true => String::new(),
        false => button(
            "/admin/tokens/revoke",
            Some(csrf),
            &[("id", &id)],
            ("Revoke", &t.name),
        ),
    };
    vec![
        id.clone(),
        escape(&t.name),
        escape(&t.email),
        labels(&t.scopes),
        escape(&t.created_at),
        if t.revoked { "Revoked" } else { "Live" }.into(),
        action,
    ]
}

fn add_form(csrf: &str, shown: Shown<'_, Entered>, emails: &[String]) -> String {
    let Shown {
        entered: e,
        problem,
    } = shown;
    let scopes: Vec<(&str, &str)> = Scope::ALL.iter().map(|s| (s.name(), s.label())).collect();
    let fields = [
        Field::new("email", "Acts as (the user's email)", &e.email).input("email", problem, emails),
        Field::new("name", "Name", &e.name)
            .hint("what it is for")
            .input("text", problem, &[]),
        Field::new("scopes", "May", "").checkboxes(&scopes, &e.scopes, problem),
    ]
    .concat();
    form(
        Tokens::PATH,
        csrf,
        "Create a token",
        &fields,
        "Create token",
    )
}

/// `POST /admin/tokens`: creates a token, shown once.
pub async fn add(Change { ctx, form: e }: Change<Entered>) -> Response {
    let actor = ctx.user.actor();
    let (email, name, chosen) = (e.email.clone(), e.name.clone(), e.scopes.join(","));
    let done = crate::ops(&ctx.state, move |db| {
        let refused = |_| StoreError::invalid("scopes", "scopes: choose from those listed");
        let scopes = match chosen.is_empty() {
            true => Vec::new(),
            false => parse_scopes(&chosen).map_err(refused)?,
        };
        let new = db.create_api_token(&actor, &email, &name, &scopes)?;
        let message = format!(
            "Token {} for {} ({}).",
            new.id,
            email.trim(),
            labels(&scopes)
        );
        let what = "Token (send it as Authorization: Bearer …)".to_string();
        Ok(Done {
            message,
            secret: Some((what, new.token)),
        })
    })
    .await;
    answer::<Tokens>(&ctx, done, Some(&e)).await
}

/// `POST /admin/tokens/revoke`: revokes a token.
pub async fn revoke(Change { ctx, form: c }: Change<Numbered>) -> Response {
    let actor = ctx.user.actor();
    let id = c.id.trim().to_string();
    let done = crate::ops(&ctx.state, move |db| {
        let number = id
            .parse()
            .map_err(|_| StoreError::Input(format!("no live API token {id}")))?;
        db.revoke_api_token(&actor, number)?;
        Ok(Done::said(format!("Revoked token {id}.")))
    })
    .await;
    answer::<Tokens>(&ctx, done, None).await
}

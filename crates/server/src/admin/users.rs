//! Users: the list, adding one with a role (and owner) and a generated password,
//! disabling one, and resetting a password — each shown once.

use axum::response::Response;
use cxray_core::access::Role;
use cxray_store::StoreError;
use cxray_store::accounts::{NewUser, User, generate_password};
use serde::Deserialize;

use super::form::{Field, button, form};
use super::{Change, Ctx, Done, Section, Shown, answer, compose, listing, posted};
use crate::html::escape;

pub struct Users;

/// The form adding a user.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct Entered {
    csrf: String,
    email: String,
    name: String,
    role: String,
    owner: String,
}

/// The form of a row's action.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct Chosen {
    csrf: String,
    email: String,
}

posted!(Entered, Chosen);

impl Section for Users {
    const PATH: &'static str = "/admin/users";
    const TITLE: &'static str = "Users";
    type Entered = Entered;

    async fn body(ctx: &Ctx, shown: Shown<'_, Entered>) -> Result<String, StoreError> {
        let users = crate::ops(&ctx.state, |db| db.users()).await?;
        let owners = super::owners(&ctx.state).await;
        let csrf = &ctx.user.csrf;
        let rows: Vec<Vec<String>> = users.iter().map(|u| row(u, csrf)).collect();
        let headers = [
            ("Email", false),
            ("Name", false),
            ("Role", false),
            ("Since", false),
            ("Status", false),
            ("Actions", false),
        ];
        let list = listing("Users of the web application", &headers, &rows);
        Ok(compose(shown.problem, list, add_form(csrf, shown, &owners)))
    }
}

/// A user's row: what they are, and the buttons to reset their password or disable them.
fn row(u: &User, csrf: &str) -> Vec<String> {
    let role = match &u.owner_id {
        Some(o) => format!("{} of {}", u.role.label(), escape(o)),
        None => u.role.label().to_string(),
    };
    let me = [("email", u.email.as_str())];
    let reset = ("Reset password", u.email.as_str());
    let mut actions = button("/admin/users/password", Some(csrf), &me, reset);
    if !u.disabled {
        let disable = ("Disable", u.email.as_str());
        actions.push_str(&button("/admin/users/disable", Some(csrf), &me, disable));
    }
    vec![
        escape(&u.email),
        escape(&u.name),
        role,
        escape(u.created_at.get(..10).unwrap_or(&u.created_at)),
        if u.disabled { "Disabled" } else { "Active" }.into(),
        actions,
    ]
}

fn add_form(
    csrf: &str,
    Shown {
        entered: e,
        problem,
    }: Shown<'_, Entered>,
    owners: &[String],
) -> String {
    let roles: Vec<(&str, &str)> = Role::ALL.iter().map(|r| (r.name(), r.label())).collect();
    let fields = [
        Field::new("email", "Email", &e.email).input("email", problem, &[]),
        Field::new("name", "Name", &e.name).input("text", problem, &[]),
        Field::new("role", "Role", &e.role).select(&roles, problem),
        Field::new("owner", "Owner", &e.owner)
            .hint("owners and partners only: the owner they belong to")
            .input("text", problem, owners),
    ]
    .concat();
    let note = "<p class=\"note\">A password is generated and shown once.</p>";
    form(
        Users::PATH,
        csrf,
        "Add a user",
        &(fields + note),
        "Add user",
    )
}

/// `POST /admin/users`: adds a user with a generated password.
pub async fn add(Change { ctx, form: e }: Change<Entered>) -> Response {
    let actor = ctx.user.actor();
    let (email, name) = (e.email.clone(), e.name.clone());
    let (role, owner) = (e.role.clone(), e.owner.clone());
    let done = crate::ops(&ctx.state, move |db| {
        let role: Role = role
            .parse()
            .map_err(|_| StoreError::invalid("role", "role: choose one of the roles listed"))?;
        let password = generate_password()?;
        let owner_id = Some(owner.trim()).filter(|o| !o.is_empty());
        let new = NewUser {
            email: &email,
            name: &name,
            role,
            owner_id,
            password: &password,
        };
        let added = db.add_user(&actor, &new)?;
        let message = format!("Added {} as {}.", added.email, added.role.label());
        Ok(with_password(message, password))
    })
    .await;
    answer::<Users>(&ctx, done, Some(&e)).await
}

/// `POST /admin/users/password`: sets a new generated password; the user's sessions end.
pub async fn password(Change { ctx, form: c }: Change<Chosen>) -> Response {
    let actor = ctx.user.actor();
    let done = crate::ops(&ctx.state, move |db| {
        let password = generate_password()?;
        let changed = db.set_password(&actor, &c.email, &password)?;
        let message = format!(
            "New password for {}; their sessions have ended.",
            changed.email
        );
        Ok(with_password(message, password))
    })
    .await;
    answer::<Users>(&ctx, done, None).await
}

/// `POST /admin/users/disable`: disables a user; their sessions and API tokens stop.
pub async fn disable(Change { ctx, form: c }: Change<Chosen>) -> Response {
    let actor = ctx.user.actor();
    let done = crate::ops(&ctx.state, move |db| db.disable_user(&actor, &c.email)).await;
    let done = done.map(|u| {
        Done::said(format!(
            "Disabled {}: their sessions and API tokens no longer work.",
            u.email
        ))
    });
    answer::<Users>(&ctx, done, None).await
}

/// A confirmation with the generated password.
fn with_password(message: String, password: String) -> Done {
    Done {
        message,
        secret: Some(("Password".into(), password)),
    }
}

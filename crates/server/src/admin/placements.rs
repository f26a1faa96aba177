//! Touchpoint placements: the edits of the journey model (journey, stage, position,
//! owner), setting a touchpoint's, removing one (back to what the interactions say).

use std::collections::HashMap;

use axum::response::Response;
use cxray_store::StoreError;
use cxray_store::edits;
use cxray_store::ops::Placement;
use serde::Deserialize;

use super::form::{Field, button, form, number};
use super::{
    Change, Ctx, Done, Section, Shown, answer, compose, listing, owners, posted, sql, touchpoints,
};
use crate::html::escape;

pub struct Placements;

/// The form setting a touchpoint's placement.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct Entered {
    csrf: String,
    touchpoint: String,
    journey: String,
    stage: String,
    position: String,
    owner: String,
}

posted!(Entered);

impl Entered {
    /// The placement entered: an empty field keeps what the interactions say.
    fn placement(&self) -> Result<Placement, StoreError> {
        let text = |t: &str| Some(t.trim().to_string()).filter(|t| !t.is_empty());
        Ok(Placement {
            journey: text(&self.journey),
            stage: text(&self.stage),
            position: number("position", "position", &self.position)?,
            owner: text(&self.owner),
        })
    }
}

impl Section for Placements {
    const PATH: &'static str = "/admin/placements";
    const TITLE: &'static str = "Touchpoint placements";
    type Entered = Entered;

    async fn prefill(ctx: &Ctx, query: &HashMap<String, String>) -> Result<Entered, StoreError> {
        let tp = query.get("touchpoint").cloned().unwrap_or_default();
        let mut edits = crate::ops(&ctx.state, |db| db.placements()).await?;
        let p = edits.remove(&tp).unwrap_or_default();
        Ok(Entered {
            journey: p.journey.unwrap_or_default(),
            stage: p.stage.unwrap_or_default(),
            position: p.position.map_or(String::new(), |p| p.to_string()),
            owner: p.owner.unwrap_or_default(),
            touchpoint: tp,
            ..Entered::default()
        })
    }

    async fn body(ctx: &Ctx, shown: Shown<'_, Entered>) -> Result<String, StoreError> {
        let edits = crate::ops(&ctx.state, |db| db.placements()).await?;
        let touchpoints = touchpoints(&ctx.state).await;
        let owners = owners(&ctx.state).await;
        let csrf = &ctx.user.csrf;
        let rows: Vec<Vec<String>> = edits.iter().map(|(tp, p)| row(tp, p, csrf)).collect();
        let headers = [
            ("Touchpoint", false),
            ("Journey", false),
            ("Stage", false),
            ("Position", true),
            ("Owner", false),
            ("Actions", false),
        ];
        let caption = "Placements edited (the rest as the interactions say)";
        let list = listing(caption, &headers, &rows);
        let form = set_form(csrf, shown, (&touchpoints, &owners));
        Ok(compose(shown.problem, list, form))
    }
}

fn row(touchpoint: &str, p: &Placement, csrf: &str) -> Vec<String> {
    let text = |v: &Option<String>| v.as_deref().map_or("(as imported)".into(), escape);
    let which = [("touchpoint", touchpoint)];
    vec![
        escape(touchpoint),
        text(&p.journey),
        text(&p.stage),
        p.position.map_or("—".into(), |p| p.to_string()),
        text(&p.owner),
        [
            button(Placements::PATH, None, &which, ("Edit", touchpoint)),
            button(
                "/admin/placements/remove",
                Some(csrf),
                &which,
                ("Remove", touchpoint),
            ),
        ]
        .concat(),
    ]
}

fn set_form(
    csrf: &str,
    Shown {
        entered: e,
        problem,
    }: Shown<'_, Entered>,
    (touchpoints, owners): (&[String], &[String]),
) -> String {
    let choices: Vec<(&str, &str)> = touchpoints
        .iter()
        .map(|t| (t.as_str(), t.as_str()))
        .collect();
    let as_imported = "empty: as the interactions say";
    let fields = [
        Field::new("touchpoint", "Touchpoint", &e.touchpoint).select(&choices, problem),
        Field::new("journey", "Journey", &e.journey)
            .hint(as_imported)
            .input("text", problem, &[]),
        Field::new("stage", "Stage", &e.stage)
            .hint(as_imported)
            .input("text", problem, &[]),
        Field::new("position", "Position in the journey", &e.position)
            .hint("1 first; empty: as the interactions say")
            .input("number", problem, &[]),
        Field::new("owner", "Owner", &e.owner)
            .hint(as_imported)
            .input("text", problem, owners),
    ]
    .concat();
    let note = "<p class=\"note\">Setting a touchpoint's placement replaces its edit.</p>";
    form(
        Placements::PATH,
        csrf,
        "Place a touchpoint",
        &(fields + note),
        "Set placement",
    )
}

/// `POST /admin/placements`: sets (replaces) a touchpoint's placement.
pub async fn set(Change { ctx, form: e }: Change<Entered>) -> Response {
    let done = async {
        let placement = e.placement()?;
        edits::check_placement(&sql(&ctx.state).await?, &e.touchpoint, &placement).await?;
        let (actor, tp) = (ctx.user.actor(), e.touchpoint.clone());
        crate::ops(&ctx.state, move |db| {
            db.set_placement(&actor, &tp, &placement)
        })
        .await?;
        Ok(Done::said(format!("Placement of {} set.", e.touchpoint)))
    }
    .await;
    answer::<Placements>(&ctx, done, Some(&e)).await
}

/// `POST /admin/placements/remove`: removes a touchpoint's placement: back to what the
/// interactions say.
pub async fn remove(Change { ctx, form: e }: Change<Entered>) -> Response {
    let (actor, tp) = (ctx.user.actor(), e.touchpoint.clone());
    let empty = Placement::default();
    let done = crate::ops(&ctx.state, move |db| db.set_placement(&actor, &tp, &empty)).await;
    let removed = |()| {
        let tp = &e.touchpoint;
        Done::said(format!(
            "Placement of {tp} removed: as the interactions say."
        ))
    };
    answer::<Placements>(&ctx, done.map(removed), None).await
}

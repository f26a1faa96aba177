//! What an administration request must be: an admin's ([`Ctx`]), and for a change
//! ([`Change`]) also a browser session sending its form token, checked before the form
//! is acted on.

use axum::Form;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use cxray_core::access::Role;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::auth::{CurrentUser, cookie};

/// An admin's request: the state, the user, and whether cookies must be `Secure`. Any
/// other role gets 403.
pub struct Ctx {
    pub state: AppState,
    pub user: CurrentUser,
    pub secure: bool,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let user = CurrentUser::from_request_parts(parts, state).await;
        let user = user.map_err(IntoResponse::into_response)?;
        admin(&user)?;
        let (h, e) = (&parts.headers, &parts.extensions);
        let secure = cookie::secure(h, e, state.secure_cookies, &state.trusted_proxies);
        Ok(Ctx {
            state: state.clone(),
            user,
            secure,
        })
    }
}

/// Implements [`Posted`] for form types with a `csrf` field.
macro_rules! posted {
    ($($form:ty),+) => {
        $(impl $crate::admin::request::Posted for $form {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        })+
    };
}
pub(super) use posted;

/// Implements reading a form whose check boxes share one name, from its pairs: each
/// `text` field takes its value, each `list` field every value sent under its name.
macro_rules! from_pairs {
    ($form:ty { $($text:ident),+ ; $($list:ident),+ }) => {
        impl From<Vec<(String, String)>> for $form {
            fn from(pairs: Vec<(String, String)>) -> Self {
                let mut e = <$form>::default();
                for (k, v) in pairs {
                    match k.as_str() {
                        $(stringify!($text) => e.$text = v,)+
                        $(stringify!($list) => e.$list.push(v),)+
                        _ => {}
                    }
                }
                e
            }
        }
    };
}
pub(super) use from_pairs;

/// The form of a row's action on what has a number (a token, a schedule).
#[derive(Default, serde::Deserialize)]
#[serde(default)]
pub struct Numbered {
    csrf: String,
    pub id: String,
}

posted!(Numbered);

/// A form of the administration: it carries the session's form token.
pub trait Posted: DeserializeOwned + Send {
    fn csrf(&self) -> &str;
}

/// A change: an admin's form, posted from a browser session with the session's form
/// token (else 403, before anything is done).
pub struct Change<F> {
    pub ctx: Ctx,
    pub form: F,
}

impl<F: Posted> FromRequest<AppState> for Change<F> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let ctx = Ctx::from_request_parts(&mut parts, state).await?;
        let form = Form::<F>::from_request(Request::from_parts(parts, body), state).await;
        let Form(form) = form.map_err(IntoResponse::into_response)?;
        let user = &ctx.user;
        user.require_session()
            .map_err(IntoResponse::into_response)?;
        user.check_csrf(form.csrf())
            .map_err(IntoResponse::into_response)?;
        Ok(Change { ctx, form })
    }
}

/// 403 unless the user is an admin.
fn admin(user: &CurrentUser) -> Result<(), Response> {
    user.require_role(Role::can_admin)
        .map_err(IntoResponse::into_response)
}

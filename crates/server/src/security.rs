//! Security headers on every response: no scripts, frames, foreign forms or sniffing.

use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Response;

/// Pages are self-contained: inline styles and SVG, images from here or data URLs, no
/// scripts; forms post only here; nobody may frame them.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the security headers to a response.
pub async fn headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    let set: [(HeaderName, &str); 3] = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
    ];
    for (name, value) in set {
        h.insert(name, HeaderValue::from_static(value));
    }
    response
}

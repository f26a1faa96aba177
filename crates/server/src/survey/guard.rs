//! Abuse limits of the survey routes, in memory (a restart forgets them; one server per
//! data folder, so they hold for the folder): requests counted per client address and per
//! link in fixed windows, each anonymous form's nonce taken once, and forms posted from
//! other sites refused by what the browser says of the request's origin.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, header};

/// Keys kept before stale windows and old nonces are dropped.
const PRUNE_AT: usize = 100_000;

/// At most `max` requests per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub per: Duration,
}

/// Request counts per key and the nonces taken.
#[derive(Default)]
pub(super) struct Guard {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
    /// Nonces taken, with when they were handed out.
    nonces: Mutex<HashMap<[u8; 16], i64>>,
}

impl Guard {
    /// Counts a request under `key`: refused, with the time until its window ends, when
    /// the window has had `limit.max` already.
    pub(super) fn allow(&self, key: String, limit: Limit) -> Result<(), Duration> {
        let now = Instant::now();
        let mut windows = self.windows.lock().expect("rate limit lock");
        if windows.len() >= PRUNE_AT {
            windows.retain(|_, (start, _)| now.duration_since(*start) < limit.per);
        }
        let (start, count) = windows.entry(key).or_insert((now, 0));
        if now.duration_since(*start) >= limit.per {
            (*start, *count) = (now, 0);
        }
        if *count >= limit.max {
            return Err(limit.per.saturating_sub(now.duration_since(*start)));
        }
        *count += 1;
        Ok(())
    }

    /// Takes a nonce handed out at `issued`: false when it was taken before. Nonces
    /// older than `max_age` seconds at `now` are forgotten (they are refused as old).
    pub(super) fn take_nonce(&self, random: [u8; 16], issued: i64, now: i64, max_age: i64) -> bool {
        let mut nonces = self.nonces.lock().expect("nonce lock");
        if nonces.len() >= PRUNE_AT {
            nonces.retain(|_, at| now - *at <= max_age);
        }
        nonces.insert(random, issued).is_none()
    }
}

/// Whether a form post comes from this site, as far as the browser says: `Sec-Fetch-Site`
/// when sent (same origin, or typed by the user), else `Origin` against `Host`; a request
/// with neither (an older browser, another program) passes — the link's token or the
/// form's nonce is still needed.
pub(super) fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        return matches!(site, "same-origin" | "none");
    }
    match (text(header::ORIGIN.as_str()), text(header::HOST.as_str())) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host)),
        (Some(_), None) => false,
        (None, _) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_takes_its_maximum_then_refuses_until_it_ends() {
        let g = Guard::default();
        let limit = Limit {
            max: 2,
            per: Duration::from_millis(50),
        };
        assert!(g.allow("a".into(), limit).is_ok());
        assert!(g.allow("a".into(), limit).is_ok());
        assert!(g.allow("b".into(), limit).is_ok());
        let wait = g.allow("a".into(), limit).unwrap_err();
        assert!(wait <= limit.per);
        std::thread::sleep(Duration::from_millis(60));
        assert!(g.allow("a".into(), limit).is_ok());
    }

    #[test]
    fn a_nonce_is_taken_once() {
        let g = Guard::default();
        assert!(g.take_nonce([1; 16], 10, 20, 100));
        assert!(!g.take_nonce([1; 16], 10, 30, 100));
        assert!(g.take_nonce([2; 16], 10, 30, 100));
    }

    #[test]
    fn only_same_origin_posts_pass() {
        let h = |pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, v.parse().unwrap());
            }
            same_origin(&h)
        };
        assert!(h(&[("sec-fetch-site", "same-origin")]));
        assert!(!h(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://x"),
            ("host", "x")
        ]));
        assert!(!h(&[("sec-fetch-site", "same-site")]));
        assert!(h(&[
            ("origin", "http://127.0.0.1:80"),
            ("host", "127.0.0.1:80")
        ]));
        assert!(!h(&[
            ("origin", "https://evil.example"),
            ("host", "127.0.0.1:80")
        ]));
        assert!(!h(&[("origin", "null"), ("host", "127.0.0.1:80")]));
        assert!(h(&[("host", "127.0.0.1:80")]));
    }
}

//! Cookies and other request details that authentication reads: the session cookie,
//! bearer tokens, the client's address; and comparing secrets in constant time.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap, header};

/// The session cookie: the raw session token.
pub const SESSION: &str = "cxray_session";
/// The sign-in form's cookie: the token the form must repeat (double submit).
pub const LOGIN: &str = "cxray_login";

/// The value of cookie `name` in the request, if any.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, for `path`, expiring after
/// `max_age` seconds (0 removes it), `Secure` when `secure`.
pub fn set(name: &str, value: &str, path: &str, max_age: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}")
}

/// Whether cookies must be `Secure`: the server says so, or one of the `trusted` proxies
/// is the peer and reports (`X-Forwarded-Proto`, its first entry: the client's scheme)
/// that the request came over https. Untrusted peers' headers change nothing.
pub fn secure(
    headers: &HeaderMap,
    extensions: &Extensions,
    server_says: bool,
    trusted: &[IpAddr],
) -> bool {
    let proxied = || peer(extensions).is_some_and(|p| trusted.contains(&p));
    let https = || {
        headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
    };
    server_says || (proxied() && https())
}

/// The address of the connection's peer.
fn peer(extensions: &Extensions) -> Option<IpAddr> {
    let peer = extensions.get::<ConnectInfo<SocketAddr>>()?;
    Some(peer.0.ip().to_canonical())
}

/// The token of an `Authorization: Bearer …` header, if any.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// The client's address for rate limiting. The peer's, unless the peer is one of the
/// `trusted` proxies: then `X-Forwarded-For` is read from the right (each proxy appends
/// the address it saw), past the trusted proxies, to the first address that is not one;
/// a value that is not an IP address ends the walk at the last trusted hop. Untrusted
/// peers cannot choose their address.
pub fn client_address(headers: &HeaderMap, extensions: &Extensions, trusted: &[IpAddr]) -> String {
    let Some(peer) = peer(extensions) else {
        return "unknown".into();
    };
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect::<Vec<_>>();
    let mut client = peer;
    for hop in forwarded.iter().rev() {
        if !trusted.contains(&client) {
            break;
        }
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => client = ip.to_canonical(),
            Err(_) => break,
        }
    }
    client.to_string()
}

/// Whether two secrets are equal, in time that depends only on their lengths.
pub fn same_secret(a: &str, b: &str) -> bool {
    let diff = a
        .bytes()
        .zip(b.bytes())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    a.len() == b.len() && std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The rate-limit address of a request from `peer` with `X-Forwarded-For: forwarded`.
    fn address(peer: &str, forwarded: &str, trusted: &[IpAddr]) -> String {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", forwarded.parse().unwrap());
        let mut e = Extensions::new();
        e.insert(ConnectInfo(SocketAddr::new(peer.parse().unwrap(), 4000)));
        client_address(&h, &e, trusted)
    }

    /// Header values: addresses, words and separators in any order.
    fn forwarded() -> impl Strategy<Value = String> {
        let hop = prop_oneof![
            any::<std::net::Ipv4Addr>().prop_map(|a| a.to_string()),
            any::<std::net::Ipv6Addr>().prop_map(|a| a.to_string()),
            Just("127.0.0.1".to_string()),
            "[ -~]{0,20}",
        ];
        prop::collection::vec(hop, 0..5).prop_map(|hops| hops.join(","))
    }

    proptest! {
        #[test]
        fn an_untrusted_peer_is_its_own_address(f in forwarded()) {
            prop_assert_eq!(address("127.0.0.1", &f, &[]), "127.0.0.1");
            let other: IpAddr = "10.0.0.5".parse().unwrap();
            prop_assert_eq!(address("127.0.0.1", &f, &[other]), "127.0.0.1");
        }

        #[test]
        fn behind_a_trusted_proxy_the_address_is_an_untrusted_hop_or_the_proxy(f in forwarded()) {
            let proxy: IpAddr = "127.0.0.1".parse().unwrap();
            let found = address("127.0.0.1", &f, &[proxy]);
            let hops: Vec<IpAddr> = f
                .split(',')
                .filter_map(|h| h.trim().parse::<IpAddr>().ok())
                .map(|ip| ip.to_canonical())
                .collect();
            let ip: IpAddr = found.parse().unwrap();
            prop_assert!(ip == proxy || hops.contains(&ip), "{} from {}", found, f);
        }
    }

    #[test]
    fn the_walk_stops_at_the_first_untrusted_hop() {
        let trusted: Vec<IpAddr> = vec!["127.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap()];
        let cases = [
            ("1.2.3.4, 5.6.7.8, 10.0.0.2", "5.6.7.8"),
            ("1.2.3.4, junk, 10.0.0.2", "10.0.0.2"),
            ("::ffff:5.6.7.8", "5.6.7.8"),
            ("", "127.0.0.1"),
        ];
        for (forwarded, client) in cases {
            assert_eq!(
                address("::ffff:127.0.0.1", forwarded, &trusted),
                client,
                "{forwarded}"
            );
        }
    }

    #[test]
    fn only_a_trusted_proxy_reports_https() {
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let secure = |proto: &str, trusted: &[IpAddr]| {
            let mut h = HeaderMap::new();
            h.insert("x-forwarded-proto", proto.parse().unwrap());
            let mut e = Extensions::new();
            e.insert(ConnectInfo(SocketAddr::new(proxy, 4000)));
            super::secure(&h, &e, false, trusted)
        };
        assert!(secure("HTTPS", &[proxy]) && secure("https, http", &[proxy]));
        assert!(!secure("http, https", &[proxy]) && !secure("https", &[]));
        assert!(super::secure(
            &HeaderMap::new(),
            &Extensions::new(),
            true,
            &[]
        ));
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, "a=1; cxray_session=abc".parse().unwrap());
        h.append(header::COOKIE, "b=2".parse().unwrap());
        assert_eq!(get(&h, SESSION).as_deref(), Some("abc"));
        assert_eq!(get(&h, "b").as_deref(), Some("2"));
        assert_eq!(get(&h, "cxray"), None);
    }

    #[test]
    fn set_cookie_is_strict_and_http_only() {
        assert_eq!(
            set(SESSION, "t", "/", 60, true),
            "cxray_session=t; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure"
        );
        assert!(!set(SESSION, "t", "/", 60, false).contains("Secure"));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
        assert!(!same_secret("", "a"));
    }

    #[test]
    fn bearer_tokens() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "Bearer cxr_x".parse().unwrap());
        assert_eq!(bearer(&h).as_deref(), Some("cxr_x"));
        h.insert(header::AUTHORIZATION, "Basic eDp5".parse().unwrap());
        assert_eq!(bearer(&h), None);
    }
}

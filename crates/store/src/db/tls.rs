//! TLS to PostgreSQL, as the URL's libpq parameters ask: `sslmode` (`disable`, the
//! default here; `prefer`: TLS when the server offers it; `require`, `verify-ca`,
//! `verify-full`: TLS or no connection) and `sslrootcert` (a PEM file of the certificate
//! authorities to trust instead of the system's). Whenever TLS is used the server's
//! certificate and host name are verified (stricter than libpq's `prefer`, `require` and
//! `verify-ca`), with rustls.

use std::str::FromStr;
use std::sync::Arc;

use postgres::config::SslMode;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio_postgres_rustls::MakeRustlsConnect;

/// How to reach a server: its settings, and the TLS connector when TLS may be used.
pub(super) struct Target {
    pub config: postgres::Config,
    pub tls: Option<MakeRustlsConnect>,
}

/// The target of `url`; what is wrong with its TLS parameters otherwise.
pub(super) fn target(url: &str) -> Result<Target, String> {
    let mut parsed = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    let (mut mode, mut root, mut kept) = (None, None, Vec::new());
    for (key, value) in parsed.query_pairs() {
        match key.as_ref() {
            "sslmode" => mode = Some(value.into_owned()),
            "sslrootcert" => root = Some(value.into_owned()),
            _ => kept.push((key.into_owned(), value.into_owned())),
        }
    }
    parsed.set_query(None);
    if !kept.is_empty() {
        parsed.query_pairs_mut().extend_pairs(&kept);
    }
    let mut config = postgres::Config::from_str(parsed.as_str()).map_err(|e| e.to_string())?;
    let ssl = match mode.as_deref().unwrap_or("disable") {
        "disable" => None,
        "prefer" => Some(SslMode::Prefer),
        "require" | "verify-ca" | "verify-full" => Some(SslMode::Require),
        other => {
            return Err(format!(
                "sslmode '{other}' is none of disable, prefer, require, verify-ca, verify-full"
            ));
        }
    };
    let Some(ssl) = ssl else {
        config.ssl_mode(SslMode::Disable);
        return Ok(Target { config, tls: None });
    };
    config.ssl_mode(ssl);
    let roots = roots(root.as_deref())?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Target {
        config,
        tls: Some(MakeRustlsConnect::new(client)),
    })
}

/// The certificate authorities in the PEM file `path`, else the system's.
fn roots(path: Option<&str>) -> Result<rustls::RootCertStore, String> {
    let mut roots = rustls::RootCertStore::empty();
    let certificates: Vec<CertificateDer> = match path {
        Some(path) => CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect())
            .map_err(|e| format!("sslrootcert {path}: {e}"))?,
        None => rustls_native_certs::load_native_certs().certs,
    };
    let (_, refused) = roots.add_parsable_certificates(certificates);
    if roots.is_empty() {
        let whose = path.map_or("the system".to_string(), |p| format!("sslrootcert {p}"));
        return Err(format!(
            "{whose} has no certificate authority to verify the server with ({refused} refused)"
        ));
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::process::Command;

    use crate::db::testing::{TestDb, tls_server};
    use crate::db::{Conn, DbError, OpsLocation};

    /// A certificate authority (`ca.crt`) and a server certificate for `localhost` signed
    /// by it (`server.crt`, `server.key`), made with the `openssl` command.
    fn certificates(dir: &Path) {
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .current_dir(dir)
                .args(args)
                .output()
                .expect("the openssl command (Debian package openssl)");
            let why = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "openssl {args:?}: {why}");
        };
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        openssl(
            &[
                &["req", "-x509"][..],
                &ec,
                &["-keyout", "ca.key", "-out", "ca.crt"],
                &["-subj", "/CN=cxray test authority", "-days", "2"],
            ]
            .concat(),
        );
        openssl(
            &[
                &["req"][..],
                &ec,
                &["-keyout", "server.key", "-out", "server.csr"],
                &["-subj", "/CN=localhost"],
            ]
            .concat(),
        );
        std::fs::write(dir.join("names.ext"), "subjectAltName=DNS:localhost\n").unwrap();
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "names.ext",
        ]);
    }

    /// Whether the connection to `url` is encrypted, as the server sees it.
    fn encrypted(url: &str) -> Result<bool, DbError> {
        let conn = Conn::open(&OpsLocation::Postgres(url.to_string()))?;
        conn.query_row(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            [],
            |r| r.get(0),
        )
    }

    #[test]
    fn tls_is_used_as_the_url_asks_and_the_certificate_and_host_are_verified() {
        let dir = tempfile::tempdir().unwrap();
        certificates(dir.path());
        let read = |name: &str| std::fs::read(dir.path().join(name)).unwrap();
        let admin = tls_server(&read("server.crt"), &read("server.key"));
        let on_localhost = admin.replace("127.0.0.1", "localhost");
        let ca = dir.path().join("ca.crt");
        let ca = ca.display();

        let verified = format!("{on_localhost}?sslmode=verify-full&sslrootcert={ca}");
        assert!(
            encrypted(&verified).unwrap(),
            "verify-full with the authority"
        );
        let preferred = format!("{on_localhost}?sslmode=prefer&sslrootcert={ca}");
        assert!(encrypted(&preferred).unwrap(), "prefer, offered");
        assert!(!encrypted(&on_localhost).unwrap(), "no sslmode: no TLS");
        let disabled = format!("{on_localhost}?sslmode=disable&application_name=cxray");
        assert!(!encrypted(&disabled).unwrap(), "other parameters kept");

        // The system's authorities do not know the test's; the name must match the host.
        let unknown = format!("{on_localhost}?sslmode=require");
        let refused = encrypted(&unknown).unwrap_err().to_string();
        assert!(refused.contains("UnknownIssuer"), "{refused}");
        let by_address = format!("{admin}?sslmode=verify-ca&sslrootcert={ca}");
        let refused = encrypted(&by_address).unwrap_err().to_string();
        assert!(refused.contains("not valid for name"), "{refused}");
    }

    #[test]
    fn tls_settings_that_cannot_be_used_are_refused_naming_them() {
        let plain = TestDb::postgres();
        let url = plain.postgres_url();
        let refused = encrypted(&format!("{url}?sslmode=require")).unwrap_err();
        assert!(matches!(refused, DbError::Connect { .. }), "{refused}");
        for (query, named) in [
            ("sslmode=verify", "sslmode 'verify'"),
            (
                "sslmode=require&sslrootcert=/no/such/ca.crt",
                "sslrootcert /no/such/ca.crt",
            ),
        ] {
            let refused = encrypted(&format!("{url}?{query}")).unwrap_err();
            assert!(matches!(refused, DbError::Settings { .. }), "{refused}");
            assert!(refused.to_string().contains(named), "{refused}");
        }
    }
}

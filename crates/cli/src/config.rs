//! Settings from a TOML file and `CXRAY_*` environment variables; command-line options
//! win over both, the environment over the file.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use cxray_core::erasure::ErasedRows;
use cxray_server::invitations::InvitationOptions;
use cxray_server::leader::LeaseOptions;
use cxray_server::reports::MailSettings;
use cxray_server::{MIN_GROUP_SIZE, SurveyOptions};
use cxray_store::engine::Engine;
use cxray_store::schema::Limits;
use serde::Deserialize;

/// Warnings and errors, without the Delta kernel's logging of the probes that find no
/// table yet (every failure it causes reaches us as an error anyway).
const DEFAULT_LOG: &str = "warn,buoyant_kernel=off";

/// The settings a run uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The data folder: a local path, or a URL of object storage (`s3://bucket/prefix`).
    pub data: PathBuf,
    /// The local state folder of a data folder on object storage (its operational
    /// database, the ingestion's write-ahead log, derived data); see
    /// `Location::default_state`.
    pub state: Option<PathBuf>,
    /// The operational database on PostgreSQL (a `postgres://` URL), shared by several
    /// servers; else SQLite in the data or state folder.
    pub ops: Option<String>,
    /// Where the queries over the tables run.
    pub engine: Engine,
    /// The object stores' options (`[object_store]`: e.g. `aws_endpoint`, `aws_region`,
    /// `retry_timeout_seconds`); the environment's `AWS_*` variables apply too.
    pub object_store: HashMap<String, String>,
    pub bind: SocketAddr,
    /// A `tracing` filter, e.g. `info` or `cxray=debug`.
    pub log: String,
    /// What imported and ingested rows may add to a table.
    pub limits: Limits,
    /// The reverse proxies whose `X-Forwarded-For` and `-Proto` the server believes; none by default.
    pub trusted_proxies: Vec<IpAddr>,
    /// Whether imports and ingestion refuse rows of erased customers (the default).
    pub erased_rows: ErasedRows,
    /// The fewest customers a filtered view may describe for owners and partners.
    pub min_group_size: u64,
    /// The Chromium binary that prints the board pack (else found on PATH).
    pub chromium: Option<PathBuf>,
    /// The mail server that scheduled board packs go through, and their sender.
    pub mail: Option<MailSettings>,
    /// How often the server looks for due report schedules and e-mails to try again.
    pub reports_every: Duration,
    /// How long an answer through a personal survey link may still be changed before it
    /// is committed into `responses`.
    pub survey_grace: Duration,
    /// Survey invitations by e-mail: the public address of personal links and the
    /// customers' column of e-mail addresses.
    pub invitations: InvitationOptions,
    /// Which of several servers leads: how often the lease is tried for, and the address
    /// this server announces when it leads.
    pub lease: LeaseOptions,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data: Option<PathBuf>,
    state: Option<PathBuf>,
    ops: Option<String>,
    engine: Option<String>,
    object_store: Option<HashMap<String, toml::Value>>,
    bind: Option<SocketAddr>,
    log: Option<String>,
    max_attributes: Option<usize>,
    max_keys_per_row: Option<usize>,
    trusted_proxies: Option<Vec<IpAddr>>,
    erased_customers: Option<String>,
    min_group_size: Option<u64>,
    chromium: Option<PathBuf>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    reports_every_seconds: Option<u64>,
    survey_grace_seconds: Option<u64>,
    public_url: Option<String>,
    survey_email_column: Option<String>,
    advertise_url: Option<String>,
    lease_seconds: Option<f64>,
}

impl Config {
    /// Loads the config: `explicit` file (an error if missing), else `$CXRAY_CONFIG`, else
    /// `./cxray.toml` if it exists; then the environment; then `data` from the command line.
    pub fn load(
        explicit: Option<&Path>,
        data: Option<PathBuf>,
        state: Option<PathBuf>,
        ops: Option<String>,
        engine: Option<String>,
    ) -> anyhow::Result<Self> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let path = explicit
            .map(Path::to_path_buf)
            .or_else(|| env("CXRAY_CONFIG").map(PathBuf::from));
        let file = match path {
            Some(p) => read(&p)?,
            None if Path::new("cxray.toml").is_file() => read(Path::new("cxray.toml"))?,
            None => FileConfig::default(),
        };
        let bind = match env("CXRAY_BIND") {
            Some(b) => b.parse().with_context(|| {
                format!("CXRAY_BIND: '{b}' is not an address like 127.0.0.1:8080")
            })?,
            None => file
                .bind
                .unwrap_or_else(|| "127.0.0.1:8080".parse().expect("valid")),
        };
        let defaults = Limits::default();
        let limits = Limits {
            attributes: file.max_attributes.unwrap_or(defaults.attributes),
            keys_per_row: file.max_keys_per_row.unwrap_or(defaults.keys_per_row),
        };
        let trusted_proxies = match env("CXRAY_TRUSTED_PROXIES") {
            Some(list) => proxies(&list)?,
            None => file.trusted_proxies.unwrap_or_default(),
        };
        let erased_rows = match file.erased_customers {
            Some(rule) => rule.parse().context("config file: erased_customers")?,
            None => ErasedRows::default(),
        };
        let object_store = file
            .object_store
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| match v {
                toml::Value::String(s) => Ok((k, s)),
                v @ (toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::Boolean(_)) => {
                    Ok((k, v.to_string()))
                }
                _ => anyhow::bail!("config file: object_store.{k}: a string, number or boolean"),
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Config {
            state: state
                .or_else(|| env("CXRAY_STATE").map(PathBuf::from))
                .or(file.state),
            ops: ops
                .or_else(|| env("CXRAY_OPS"))
                .or(file.ops)
                .map(|url| postgres_url(&url))
                .transpose()?,
            engine: match (engine, env("CXRAY_ENGINE"), file.engine) {
                (Some(e), _, _) => Engine::parse("--engine", &e)?,
                (None, Some(e), _) => Engine::parse("CXRAY_ENGINE", &e)?,
                (None, None, Some(e)) => Engine::parse("config file: engine", &e)?,
                (None, None, None) => Engine::Embedded,
            },
            object_store,
            limits,
            erased_rows,
            min_group_size: file.min_group_size.unwrap_or(MIN_GROUP_SIZE),
            data: data
                .or_else(|| env("CXRAY_DATA").map(PathBuf::from))
                .or(file.data)
                .unwrap_or_else(|| "cxray-data".into()),
            bind,
            log: env("CXRAY_LOG")
                .or(file.log)
                .unwrap_or_else(|| DEFAULT_LOG.into()),
            trusted_proxies,
            chromium: file.chromium,
            mail: mail(
                env("CXRAY_SMTP_URL").or(file.smtp_url),
                env("CXRAY_MAIL_FROM").or(file.mail_from),
            )?,
            reports_every: Duration::from_secs(file.reports_every_seconds.unwrap_or(60).max(1)),
            survey_grace: file
                .survey_grace_seconds
                .map_or(SurveyOptions::default().grace, Duration::from_secs),
            invitations: InvitationOptions {
                public_url: env("CXRAY_PUBLIC_URL")
                    .or(file.public_url)
                    .map(|u| public_url(&u, "public_url (CXRAY_PUBLIC_URL)"))
                    .transpose()?,
                email_column: env("CXRAY_SURVEY_EMAIL_COLUMN")
                    .or(file.survey_email_column)
                    .unwrap_or_else(|| InvitationOptions::default().email_column),
            },
            lease: LeaseOptions {
                every: file
                    .lease_seconds
                    .map(|s| seconds(s, "lease_seconds"))
                    .transpose()?
                    .unwrap_or(LeaseOptions::default().every),
                advertise: env("CXRAY_ADVERTISE_URL")
                    .or(file.advertise_url)
                    .map(|u| public_url(&u, "advertise_url (CXRAY_ADVERTISE_URL)"))
                    .transpose()?,
            },
        })
    }
}

/// A positive number of seconds (fractions allowed) named `setting`, as a duration.
pub fn seconds(value: f64, setting: &str) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| anyhow::anyhow!("{setting}: {value} is not a positive number of seconds"))
}

/// The operational database's URL, which must be PostgreSQL's.
fn postgres_url(url: &str) -> anyhow::Result<String> {
    match cxray_store::db::OpsLocation::parse(url) {
        cxray_store::db::OpsLocation::Postgres(url) => {
            match cxray_store::db::check_postgres(&url) {
                Ok(()) => Ok(url),
                Err(e) => Err(crate::commands::usage(format!("--ops: {e}"))),
            }
        }
        cxray_store::db::OpsLocation::Sqlite(_) => Err(crate::commands::usage(format!(
            "--ops: '{url}' is not a PostgreSQL URL like postgres://user@host/database"
        ))),
    }
}

/// The mail settings when a mail server is named; its sender is then required.
fn mail(smtp_url: Option<String>, from: Option<String>) -> anyhow::Result<Option<MailSettings>> {
    match (smtp_url, from) {
        (None, _) => Ok(None),
        (Some(smtp_url), Some(from)) => Ok(Some(MailSettings { smtp_url, from })),
        (Some(_), None) => Err(anyhow::anyhow!(
            "smtp_url is set but mail_from is not: name the address the board packs come \
             from (config file's mail_from or CXRAY_MAIL_FROM)"
        )),
    }
}

/// A server's address, of the `setting` named: `http://` or `https://` and a host, no
/// spaces.
pub fn public_url(text: &str, setting: &str) -> anyhow::Result<String> {
    let text = text.trim();
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    match rest {
        Some(r) if !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace) => {
            Ok(text.trim_end_matches('/').to_string())
        }
        _ => Err(anyhow::anyhow!(
            "{setting}: '{text}' is not an address like https://cx.example.com"
        )),
    }
}

/// IP addresses separated by commas, e.g. `127.0.0.1,::1`.
fn proxies(list: &str) -> anyhow::Result<Vec<IpAddr>> {
    list.split(',')
        .map(|a| {
            a.trim().parse().with_context(|| {
                format!("CXRAY_TRUSTED_PROXIES: '{}' is not an IP address", a.trim())
            })
        })
        .collect()
}

fn read(path: &Path) -> anyhow::Result<FileConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("config file {}", path.display()))?;
    toml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("config file {}: {}", path.display(), e.message()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_proxies_are_ip_addresses() {
        let list = proxies("127.0.0.1, ::1").unwrap();
        assert_eq!(
            list,
            [
                "127.0.0.1".parse::<IpAddr>().unwrap(),
                "::1".parse().unwrap()
            ]
        );
        let e = proxies("127.0.0.1,proxy.local").unwrap_err().to_string();
        assert_eq!(
            e,
            "CXRAY_TRUSTED_PROXIES: 'proxy.local' is not an IP address"
        );
        let file: FileConfig = toml::from_str("trusted_proxies = [\"10.0.0.2\"]").unwrap();
        assert_eq!(
            file.trusted_proxies.unwrap(),
            ["10.0.0.2".parse::<IpAddr>().unwrap()]
        );
        assert!(toml::from_str::<FileConfig>("trusted_proxies = [\"10.0.0\"]").is_err());
    }

    #[test]
    fn erased_customers_take_a_rule() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cxray.toml");
        std::fs::write(&path, "erased_customers = \"Accept\"").unwrap();
        let config = Config::load(Some(&path), None, None, None, None).unwrap();
        assert_eq!(config.erased_rows, ErasedRows::Accept);
        std::fs::write(&path, "erased_customers = \"keep\"").unwrap();
        let e = format!(
            "{:#}",
            Config::load(Some(&path), None, None, None, None).unwrap_err()
        );
        assert!(
            e.contains("unknown rule for erased customers' rows 'keep'"),
            "{e}"
        );
    }

    #[test]
    fn the_public_url_is_an_http_address() {
        assert_eq!(
            public_url(" https://cx.example.com/ ", "public_url").unwrap(),
            "https://cx.example.com"
        );
        for bad in [
            "cx.example.com",
            "https://",
            "ftp://x",
            "https:///x",
            "http://a b",
        ] {
            assert!(public_url(bad, "public_url").is_err(), "{bad}");
        }
        let file: FileConfig =
            toml::from_str("public_url = \"https://x.example\"\nsurvey_email_column = \"mail\"")
                .unwrap();
        assert_eq!(file.survey_email_column.as_deref(), Some("mail"));
    }

    #[test]
    fn a_mail_server_needs_a_sender() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cxray.toml");
        std::fs::write(&path, "chromium = \"/usr/bin/chromium\"").unwrap();
        assert_eq!(
            Config::load(Some(&path), None, None, None, None)
                .unwrap()
                .mail,
            None
        );
        let both = "smtp_url = \"smtp://127.0.0.1:2525\"\nmail_from = \"cx@example.com\"";
        std::fs::write(&path, both).unwrap();
        let mail = Config::load(Some(&path), None, None, None, None)
            .unwrap()
            .mail
            .unwrap();
        assert_eq!(mail.smtp_url, "smtp://127.0.0.1:2525");
        assert_eq!(mail.from, "cx@example.com");
        std::fs::write(&path, "smtp_url = \"smtp://127.0.0.1:2525\"").unwrap();
        let e = format!(
            "{:#}",
            Config::load(Some(&path), None, None, None, None).unwrap_err()
        );
        assert!(e.contains("mail_from is not"), "{e}");
    }
}

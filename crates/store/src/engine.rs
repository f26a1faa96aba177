//! Where the queries over the tables run: in this process (the default), or on an Apache
//! DataFusion Ballista cluster (`ballista://host:port`, builds with the `cluster` feature).

use std::fmt;
use std::net::ToSocketAddrs;
use std::time::Duration;

use url::Url;

use crate::{Result, StoreError};

/// The port of a Ballista scheduler when its address names none.
pub const SCHEDULER_PORT: u16 = 50050;

/// The engine of the queries over the tables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Engine {
    /// DataFusion in this process.
    #[default]
    Embedded,
    /// A Ballista cluster, by its scheduler's host and port.
    Cluster { host: String, port: u16 },
}

impl Engine {
    /// Reads `embedded` or `ballista://host[:port]`, naming `field` when it is neither.
    pub fn parse(field: &str, text: &str) -> Result<Engine> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("embedded") {
            return Ok(Engine::Embedded);
        }
        let bad = |why: &str| {
            StoreError::Input(format!(
                "{field}: '{text}' {why} (use \"embedded\" or \"ballista://host:port\")"
            ))
        };
        let url = Url::parse(text).map_err(|_| bad("is not an engine"))?;
        if url.scheme() != "ballista" {
            return Err(bad("is not an engine"));
        }
        if !url.path().trim_matches('/').is_empty() || url.query().is_some() {
            return Err(bad("has more than a host and port"));
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("names no host"))?;
        Ok(Engine::Cluster {
            host: host.to_string(),
            port: url.port().unwrap_or(SCHEDULER_PORT),
        })
    }

    /// The scheduler's gRPC address (`http://host:port`), for a cluster.
    pub fn scheduler_url(&self) -> Option<String> {
        match self {
            Engine::Embedded => None,
            Engine::Cluster { host, port } => Some(format!("http://{host}:{port}")),
        }
    }

    /// Refuses a cluster engine in a build without the `cluster` feature, or whose
    /// scheduler does not accept a connection within five seconds: one line naming it.
    pub fn check(&self) -> Result<()> {
        let Engine::Cluster { host, port } = self else {
            return Ok(());
        };
        if !cfg!(feature = "cluster") {
            return Err(self.unavailable());
        }
        let unreachable = |why: String| {
            StoreError::Cluster(format!(
                "cannot reach the scheduler of engine {self}: {why}"
            ))
        };
        let addrs = (host.as_str(), *port)
            .to_socket_addrs()
            .map_err(|e| unreachable(e.to_string()))?;
        let mut last = String::from("the host has no address");
        for addr in addrs {
            match std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
                Ok(_) => return Ok(()),
                Err(e) => last = e.to_string(),
            }
        }
        Err(unreachable(last))
    }
}

impl Engine {
    /// The error of a cluster engine in a build without the `cluster` feature.
    pub(crate) fn unavailable(&self) -> StoreError {
        StoreError::Input(format!(
            "engine {self}: this cxray was built without the cluster feature \
             (cargo build --release --features cxray/cluster)"
        ))
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Engine::Embedded => f.write_str("embedded"),
            Engine::Cluster { host, port } => write!(f, "ballista://{host}:{port}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_are_read_from_their_names() {
        assert_eq!(
            Engine::parse("engine", "embedded").unwrap(),
            Engine::Embedded
        );
        let cluster = Engine::parse("engine", "ballista://sched.local:50051").unwrap();
        assert_eq!(cluster.to_string(), "ballista://sched.local:50051");
        assert_eq!(
            cluster.scheduler_url().as_deref(),
            Some("http://sched.local:50051")
        );
        let default_port = Engine::parse("engine", "ballista://10.0.0.5").unwrap();
        assert_eq!(default_port.to_string(), "ballista://10.0.0.5:50050");
        for bad in [
            "",
            "ballista",
            "http://host:1",
            "ballista://",
            "ballista://h:1/x",
        ] {
            let e = Engine::parse("--engine", bad).unwrap_err().to_string();
            assert!(e.starts_with("--engine: '"), "{bad}: {e}");
        }
    }
}

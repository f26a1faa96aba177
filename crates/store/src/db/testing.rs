//! The operational database for tests, on either backend. A PostgreSQL database is made
//! in the server `$CXRAY_TEST_POSTGRES` names (an administrator's URL; `.ci/run` starts
//! one), else in a real server the test process starts once: Debian's PostgreSQL,
//! initialised in a temporary folder on a free loopback port, run as the `postgres` user
//! the Debian package creates when the tests run as root (PostgreSQL refuses root), and
//! stopped by a watchdog when the test process ends.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use crate::db::OpsLocation;
use crate::ops::OpsDb;

/// Includes a module's tests (a file under `src/`) twice, once per backend of the
/// operational database: in `sqlite` with `db()` a new SQLite database, in `postgres` with
/// `db()` a new PostgreSQL database. The file names the module it tests by its path.
#[macro_export]
macro_rules! on_each_backend {
    ($file:literal) => {
        mod sqlite {
            use $crate::db::testing::temp_sqlite as db;
            include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/", $file));
        }
        // What other modules' tests use of this file is taken from `sqlite`.
        #[allow(dead_code)]
        mod postgres {
            use $crate::db::testing::temp_postgres as db;
            include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/", $file));
        }
    };
}

/// A test's operational database, and the temporary folder of a SQLite one.
pub struct TestDb {
    _dir: Option<tempfile::TempDir>,
    location: OpsLocation,
}

impl TestDb {
    /// A new SQLite database in a temporary folder.
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let location = OpsLocation::Sqlite(dir.path().join("cxray.db"));
        TestDb {
            _dir: Some(dir),
            location,
        }
    }

    /// A new, empty PostgreSQL database.
    pub fn postgres() -> TestDb {
        let url = create_database(&admin_url(), &format!("t{}", random_suffix()));
        TestDb {
            _dir: None,
            location: OpsLocation::Postgres(url),
        }
    }

    /// The database, opened (and migrated) anew.
    pub fn open(&self) -> OpsDb {
        OpsDb::at(&self.location).expect("the test database opens")
    }

    /// Where the database is.
    pub fn location(&self) -> &OpsLocation {
        &self.location
    }

    /// The PostgreSQL database's URL.
    pub fn postgres_url(&self) -> &str {
        match &self.location {
            OpsLocation::Postgres(url) => url,
            OpsLocation::Sqlite(_) => panic!("a SQLite test database has no URL"),
        }
    }
}

/// A new SQLite database, opened.
pub fn temp_sqlite() -> (TestDb, OpsDb) {
    let t = TestDb::sqlite();
    let db = t.open();
    (t, db)
}

/// A new PostgreSQL database, opened.
pub fn temp_postgres() -> (TestDb, OpsDb) {
    let t = TestDb::postgres();
    let db = t.open();
    (t, db)
}

/// The administrator's URL of the tests' server: `$CXRAY_TEST_POSTGRES`, else this
/// process's own.
pub fn admin_url() -> String {
    static SERVER: OnceLock<Postgres> = OnceLock::new();
    match std::env::var("CXRAY_TEST_POSTGRES") {
        Ok(admin) if !admin.is_empty() => admin,
        _ => SERVER.get_or_init(|| Postgres::start(&[], "")).admin_url(),
    }
}

/// Creates the database `name` through the administrator's URL `admin`; its URL.
fn create_database(admin: &str, name: &str) -> String {
    let mut client = postgres::Client::connect(admin, postgres::NoTls)
        .unwrap_or_else(|e| panic!("the tests' PostgreSQL server {admin}: {e:?}"));
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|e| panic!("creating the database {name}: {e:?}"));
    let mut url = url::Url::parse(admin).expect("CXRAY_TEST_POSTGRES is a URL");
    url.set_path(name);
    url.to_string()
}

/// A suffix no other test's database has.
fn random_suffix() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("random bytes");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The administrator's URL of a server of its own that offers TLS with the PEM
/// certificate chain and key given (stopped when this process ends).
pub fn tls_server(certificate: &[u8], key: &[u8]) -> String {
    let files = [("server.crt", certificate), ("server.key", key)];
    let options = "-c ssl=on -c ssl_cert_file={dir}/server.crt -c ssl_key_file={dir}/server.key";
    Postgres::start(&files, options).admin_url()
}

/// A running server with one superuser, `cxray`, trusted on loopback.
struct Postgres {
    port: u16,
}

impl Postgres {
    /// Initialises and starts a server, stopped and removed when this process ends;
    /// panics saying what is missing when it cannot. `files` (name, contents; private to
    /// the server's user) are written into its folder first and may be named in its
    /// `options` as `{dir}/name`.
    fn start(files: &[(&str, &[u8])], options: &str) -> Postgres {
        let dir = tempfile::tempdir().expect("a temporary folder").keep();
        let bin = bindir();
        let port = free_port();
        for (name, contents) in files {
            use std::os::unix::fs::OpenOptionsExt;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(dir.join(name))
                .expect("a file in the server's folder");
            std::io::Write::write_all(&mut file, contents).expect("written");
        }
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .expect("chown");
            assert!(status.success(), "chown the folder to the postgres user");
        }
        let data = dir.join("data");
        let init = run_as_postgres(
            &bin.join("initdb"),
            &[
                "-D",
                path(&data),
                "-U",
                "cxray",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        assert!(init.status.success(), "initdb: {}", text(&init));
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off {}",
            path(&dir),
            options.replace("{dir}", path(&dir))
        );
        let log = dir.join("server.log");
        let start = run_as_postgres(
            &bin.join("pg_ctl"),
            &[
                "-D",
                path(&data),
                "-l",
                path(&log),
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
        assert!(
            start.status.success(),
            "pg_ctl start: {}\n{}",
            text(&start),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        watch(&bin, &dir);
        Postgres { port }
    }

    /// The URL of the server's administrator's database.
    fn admin_url(&self) -> String {
        format!("postgres://cxray@127.0.0.1:{}/postgres", self.port)
    }
}

/// Stops the server in `dir` and removes the folder once this process has ended.
fn watch(bin: &Path, dir: &Path) {
    let stop = format!(
        "{} -D {} -m immediate stop",
        bin.join("pg_ctl").display(),
        dir.join("data").display()
    );
    let stop = if is_root() {
        format!("runuser -u postgres -- {stop}")
    } else {
        stop
    };
    // In the background of a shell that ends at once, so nothing waits for it.
    let script = format!(
        "(while [ -d /proc/{} ]; do sleep 0.5; done; {stop}; rm -rf {}) >/dev/null 2>&1 &",
        std::process::id(),
        dir.display()
    );
    let started = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the server's watchdog starts");
    assert!(started.success(), "the server's watchdog starts");
}

/// PostgreSQL's programs: the newest of Debian's versions, else on PATH.
fn bindir() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("initdb").is_file())
        .collect();
    found.sort();
    found.pop().unwrap_or_default()
}

fn run_as_postgres(program: &Path, args: &[&str]) -> Output {
    let mut command = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    command
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (install Debian's postgresql)", program.display()))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

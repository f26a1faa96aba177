//! The operational database (SQLite embedded by default, or PostgreSQL; [`crate::db`]):
//! state that is not an event table, such as the import log and the audit log (users and
//! targets are in [`crate::accounts`] and [`crate::targets`], ingestion's idempotency
//! keys in [`crate::ingest`]). Its schema is versioned: SQLite's by [`MIGRATIONS`],
//! PostgreSQL's by [`POSTGRES_MIGRATIONS`], both ending at [`schema_version`].

use std::path::Path;

use serde::Serialize;

use crate::db::{Conn, DbResult, OpsLocation, params};
use crate::{Result, StoreError};

/// Schema migrations, applied in order; the index + 1 is the schema version.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: the import log and the audit log.
    "CREATE TABLE imports (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        table_name TEXT NOT NULL,
        files TEXT NOT NULL,
        rows INTEGER NOT NULL,
        rejected INTEGER NOT NULL,
        delta_version INTEGER,
        seconds REAL NOT NULL
     );
     CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL
     );",
    // 2: service levels per touchpoint.
    "CREATE TABLE touchpoint_slas (
        touchpoint TEXT PRIMARY KEY,
        max_wait_seconds REAL,
        max_failure_rate REAL
     );",
    // 3: the journey model as edited: a touchpoint's journey, stage, position and owner.
    "CREATE TABLE touchpoint_placements (
        touchpoint TEXT PRIMARY KEY,
        journey TEXT,
        stage TEXT,
        position INTEGER,
        owner TEXT
     );",
    // 4: users, their sessions and API tokens, failed sign-ins, targets, secrets.
    "CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        owner_id TEXT,
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0,
        CHECK ((role IN ('owner', 'partner')) = (owner_id IS NOT NULL))
     );
     CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id),
        csrf_token TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        last_seen INTEGER NOT NULL
     );
     CREATE TABLE api_tokens (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        scopes TEXT NOT NULL,
        user_id INTEGER NOT NULL REFERENCES users (id),
        created_at TEXT NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0
     );
     CREATE TABLE login_failures (
        at INTEGER NOT NULL,
        email TEXT NOT NULL,
        address TEXT NOT NULL
     );
     CREATE INDEX login_failures_email ON login_failures (email, at);
     CREATE INDEX login_failures_address ON login_failures (address, at);
     CREATE TABLE targets (
        metric TEXT NOT NULL,
        period TEXT NOT NULL,
        value REAL NOT NULL,
        set_by TEXT NOT NULL,
        set_at TEXT NOT NULL,
        PRIMARY KEY (metric, period)
     );
     CREATE TABLE secrets (
        name TEXT PRIMARY KEY,
        value BLOB NOT NULL
     );",
    // 5: the idempotency keys of ingested batches.
    "CREATE TABLE ingest_keys (
        table_name TEXT NOT NULL,
        key TEXT NOT NULL,
        rows INTEGER NOT NULL,
        body_hash TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (table_name, key)
     ) WITHOUT ROWID;",
    // 6: idempotency keys per client (the actor who sent the batch); the keys before
    // were shared by all clients of a table, and stay so (actor '').
    "CREATE TABLE ingest_keys_by_actor (
        table_name TEXT NOT NULL,
        actor TEXT NOT NULL,
        key TEXT NOT NULL,
        rows INTEGER NOT NULL,
        body_hash TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (table_name, actor, key)
     ) WITHOUT ROWID;
     INSERT INTO ingest_keys_by_actor (table_name, actor, key, rows, body_hash, at)
        SELECT table_name, '', key, rows, body_hash, at FROM ingest_keys;
     DROP TABLE ingest_keys;
     ALTER TABLE ingest_keys_by_actor RENAME TO ingest_keys;",
    // 7: customers erased (`cxray forget`), by keyed hash: their rows are refused.
    "CREATE TABLE forgotten (
        hash TEXT PRIMARY KEY,
        at TEXT NOT NULL
     ) WITHOUT ROWID;",
    // 8: report schedules and the outbox of their e-mails (`crate::reports`).
    "CREATE TABLE report_schedules (
        id INTEGER PRIMARY KEY,
        cadence TEXT NOT NULL,
        recipients TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        next_due TEXT NOT NULL,
        last_period TEXT,
        last_queued_at TEXT
     );
     CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        schedule_id INTEGER,
        period TEXT NOT NULL,
        sender TEXT NOT NULL,
        recipient TEXT NOT NULL,
        message BLOB NOT NULL,
        queued_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
        last_error TEXT,
        sent_at TEXT
     );
     CREATE INDEX outbox_pending ON outbox (status, next_attempt);",
    // 9: the closed loop (`crate::cases`): rules that open cases, the cases (one per rule
    // and source event), their history, the root causes they may name.
    "CREATE TABLE case_rules (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        kind TEXT NOT NULL CHECK (kind IN ('survey', 'interaction', 'behaviour')),
        instrument TEXT,
        comparison TEXT,
        score REAL,
        touchpoint TEXT,
        experience TEXT,
        p_alive_below REAL,
        customers TEXT NOT NULL,
        fallback_owner TEXT,
        cooldown_days INTEGER NOT NULL CHECK (cooldown_days >= 0),
        holdout_share REAL NOT NULL CHECK (holdout_share BETWEEN 0 AND 0.5),
        since TEXT,
        enabled INTEGER NOT NULL DEFAULT 1,
        watermark INTEGER,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL
     );
     CREATE TABLE cases (
        id INTEGER PRIMARY KEY,
        rule_id INTEGER NOT NULL REFERENCES case_rules (id),
        event_key TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        event_at TEXT NOT NULL,
        touchpoint TEXT,
        detail TEXT NOT NULL,
        owner TEXT,
        arm TEXT NOT NULL CHECK (arm IN ('follow_up', 'holdout')),
        status TEXT NOT NULL CHECK (status IN ('open', 'contacted', 'resolved', 'closed')),
        assignee TEXT,
        root_cause TEXT,
        outcome TEXT,
        outcome_amount REAL,
        opened_at TEXT NOT NULL,
        contact_by TEXT NOT NULL,
        resolve_by TEXT NOT NULL,
        contacted_at TEXT,
        done_at TEXT,
        updated_at TEXT NOT NULL,
        UNIQUE (rule_id, event_key)
     );
     CREATE INDEX cases_cooldown ON cases (rule_id, customer_id, opened_at);
     CREATE INDEX cases_owner ON cases (owner, status);
     CREATE INDEX cases_customer ON cases (customer_id);
     CREATE TABLE case_history (
        id INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL REFERENCES cases (id),
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        change TEXT NOT NULL,
        note TEXT
     );
     CREATE INDEX case_history_case ON case_history (case_id);
     CREATE TABLE root_causes (
        path TEXT PRIMARY KEY,
        added_by TEXT NOT NULL,
        added_at TEXT NOT NULL
     ) WITHOUT ROWID;",
    // 10: initiatives: changes whose effect is measured against a control.
    "CREATE TABLE initiatives (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        owner TEXT,
        touchpoints TEXT NOT NULL,
        scope_column TEXT NOT NULL,
        scope_values TEXT NOT NULL,
        start TEXT NOT NULL,
        starts TEXT NOT NULL,
        end_date TEXT,
        one_off_cost REAL NOT NULL,
        running_cost REAL NOT NULL,
        expected_effect REAL,
        status TEXT NOT NULL,
        notes TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
     );",
    // 11: notifications (`crate::outbox`, `crate::webhooks`, `crate::cases`): the outbox
    // holds e-mails of packs and of case events and webhook messages; the case events
    // waiting to be written as messages; webhook endpoints; owners' leads; how far each
    // overdue case was noticed and escalated; rules for customers above a CLV percentile.
    "CREATE TABLE webhooks (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL,
        secret BLOB NOT NULL,
        events TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1,
        disabled_why TEXT,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL
     );
     CREATE TABLE outbox_all (
        id INTEGER PRIMARY KEY,
        channel TEXT NOT NULL CHECK (channel IN ('mail', 'webhook')),
        schedule_id INTEGER,
        period TEXT,
        case_id INTEGER,
        event TEXT,
        webhook_id INTEGER REFERENCES webhooks (id),
        sender TEXT NOT NULL,
        recipient TEXT NOT NULL,
        message BLOB NOT NULL,
        queued_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
        last_error TEXT,
        sent_at TEXT
     );
     INSERT INTO outbox_all (id, channel, schedule_id, period, sender, recipient, message,
                             queued_at, attempts, next_attempt, status, last_error, sent_at)
        SELECT id, 'mail', schedule_id, period, sender, recipient, message, queued_at,
               attempts, next_attempt, status, last_error, sent_at FROM outbox;
     DROP TABLE outbox;
     ALTER TABLE outbox_all RENAME TO outbox;
     CREATE INDEX outbox_pending ON outbox (status, next_attempt);
     CREATE INDEX outbox_case ON outbox (case_id);
     CREATE INDEX outbox_webhook ON outbox (webhook_id, id);
     CREATE TABLE case_events (
        id INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL REFERENCES cases (id),
        event TEXT NOT NULL CHECK (event IN ('opened', 'overdue', 'escalated', 'closed')),
        escalation TEXT CHECK (escalation IN ('lead', 'admins')),
        at TEXT NOT NULL,
        written INTEGER NOT NULL DEFAULT 0
     );
     CREATE INDEX case_events_waiting ON case_events (written, id);
     CREATE INDEX case_events_case ON case_events (case_id);
     CREATE TABLE owner_leads (
        owner_id TEXT PRIMARY KEY,
        email TEXT NOT NULL,
        set_by TEXT NOT NULL,
        set_at TEXT NOT NULL
     ) WITHOUT ROWID;
     ALTER TABLE cases ADD COLUMN late_since TEXT;
     ALTER TABLE cases ADD COLUMN escalation TEXT;
     ALTER TABLE case_rules ADD COLUMN clv_percentile REAL;",
    // 12: feedback collection (`crate::surveys`): surveys, the rules that invite to them,
    // the one contact policy, invitations, every contact decision with its reason,
    // opt-outs, and answers held for their grace period before they go to `responses`.
    // Times of invitations and decisions are seconds since the epoch.
    "CREATE TABLE surveys (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        touchpoint TEXT,
        questions TEXT NOT NULL,
        comment INTEGER NOT NULL,
        languages TEXT NOT NULL,
        public_id TEXT NOT NULL UNIQUE,
        enabled INTEGER NOT NULL DEFAULT 1,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL
     );
     CREATE TABLE survey_rules (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        survey_id INTEGER NOT NULL REFERENCES surveys (id),
        touchpoint TEXT NOT NULL,
        delay_hours REAL NOT NULL CHECK (delay_hours >= 0),
        sample_rate REAL NOT NULL CHECK (sample_rate > 0 AND sample_rate <= 1),
        customers TEXT,
        survey_cooldown_days INTEGER NOT NULL CHECK (survey_cooldown_days >= 0),
        touchpoint_cooldown_days INTEGER NOT NULL CHECK (touchpoint_cooldown_days >= 0),
        enabled INTEGER NOT NULL DEFAULT 1,
        watermark INTEGER,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL
     );
     CREATE TABLE contact_policy (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        global_cooldown_days INTEGER NOT NULL CHECK (global_cooldown_days >= 0),
        window_days INTEGER NOT NULL CHECK (window_days >= 1),
        max_in_window INTEGER NOT NULL CHECK (max_in_window >= 1),
        reminders INTEGER NOT NULL CHECK (reminders >= 0),
        reminder_gap_days INTEGER NOT NULL CHECK (reminder_gap_days >= 0),
        expiry_days INTEGER NOT NULL CHECK (expiry_days >= 1),
        holdout_share REAL NOT NULL CHECK (holdout_share BETWEEN 0 AND 0.5),
        set_by TEXT NOT NULL,
        set_at TEXT NOT NULL
     );
     CREATE TABLE invitations (
        id INTEGER PRIMARY KEY,
        rule_id INTEGER NOT NULL REFERENCES survey_rules (id),
        survey_id INTEGER NOT NULL REFERENCES surveys (id),
        event_key TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        touchpoint TEXT NOT NULL,
        event_at INTEGER NOT NULL,
        send_at INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'responded', 'expired')),
        channel TEXT,
        sent_at INTEGER,
        expires_at INTEGER,
        reminders INTEGER NOT NULL DEFAULT 0,
        reminded_at INTEGER,
        responded_at INTEGER,
        language TEXT
     );
     CREATE INDEX invitations_customer ON invitations (customer_id, send_at);
     CREATE INDEX invitations_due ON invitations (status, send_at);
     CREATE TABLE contact_log (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        customer_id TEXT NOT NULL,
        rule_id INTEGER,
        survey_id INTEGER,
        invitation_id INTEGER,
        event_key TEXT,
        decision TEXT NOT NULL
            CHECK (decision IN ('invited', 'suppressed', 'sent', 'reminded', 'expired', 'responded', 'opted_out')),
        reason TEXT
     );
     CREATE INDEX contact_log_customer ON contact_log (customer_id, id);
     CREATE TABLE survey_opt_outs (
        customer_id TEXT PRIMARY KEY,
        at INTEGER NOT NULL,
        via TEXT NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE survey_answers (
        id INTEGER PRIMARY KEY,
        survey_id INTEGER NOT NULL REFERENCES surveys (id),
        invitation_id INTEGER UNIQUE REFERENCES invitations (id),
        customer_id TEXT,
        touchpoint TEXT,
        language TEXT NOT NULL,
        scores TEXT NOT NULL,
        comment TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        final_at INTEGER NOT NULL,
        committed_at INTEGER,
        refused TEXT
     );
     CREATE INDEX survey_answers_final ON survey_answers (committed_at, final_at);",
    // 13: survey e-mails and `response.created` webhooks: which invitation (its e-mail)
    // or answer (its webhook message) an outbox message is for; when an invitation's page
    // was first opened, when its next reminder is due, and when it was found to have no
    // e-mail address; webhook subscriptions named by the message type (`case.opened`).
    "ALTER TABLE outbox ADD COLUMN invitation_id INTEGER;
     ALTER TABLE outbox ADD COLUMN answer_id INTEGER;
     CREATE INDEX outbox_invitation ON outbox (invitation_id) WHERE invitation_id IS NOT NULL;
     CREATE INDEX outbox_answer ON outbox (answer_id) WHERE answer_id IS NOT NULL;
     ALTER TABLE invitations ADD COLUMN opened_at INTEGER;
     ALTER TABLE invitations ADD COLUMN remind_at INTEGER;
     ALTER TABLE invitations ADD COLUMN unaddressed_at INTEGER;
     CREATE INDEX invitations_to_mail ON invitations (send_at, id)
        WHERE status = 'pending' AND unaddressed_at IS NULL;
     CREATE INDEX invitations_to_remind ON invitations (remind_at, id)
        WHERE status = 'sent' AND remind_at IS NOT NULL;
     UPDATE webhooks SET events = 'case.' || replace(events, ',', ',case.');",
    // 14: the business hours cases' service levels count in (`cases::hours`), if set.
    "CREATE TABLE business_hours (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        spec TEXT NOT NULL,
        set_by TEXT NOT NULL,
        set_at TEXT NOT NULL
     );",
    LEADER,
];

/// 15: the server holding the lease of several servers (`crate::lease`), as it announced
/// itself; the same on both backends.
const LEADER: &str = "CREATE TABLE leader (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        address TEXT NOT NULL,
        since TEXT NOT NULL
     );";

/// PostgreSQL's migrations, each with the schema version it brings the database to: the
/// first creates what SQLite's first 14 do; later ones change both backends alike.
pub(crate) const POSTGRES_MIGRATIONS: &[(u32, &str)] =
    &[(14, include_str!("db/postgres_schema.sql")), (15, LEADER)];

/// The schema version this build expects.
pub fn schema_version() -> u32 {
    MIGRATIONS.len() as u32
}

/// A connection to the operational database, migrated to [`schema_version`].
pub struct OpsDb {
    conn: Conn,
    location: OpsLocation,
}

/// A touchpoint's service levels: the longest acceptable wait and failure rate.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Sla {
    pub max_wait_seconds: Option<f64>,
    pub max_failure_rate: Option<f64>,
}

impl Sla {
    /// Checks the service levels: a wait of seconds ≥ 0, a failure rate between 0 and 1.
    fn check(self) -> Result<()> {
        if let Some(w) = self
            .max_wait_seconds
            .filter(|w| !(w.is_finite() && *w >= 0.0))
        {
            let message = format!("max wait seconds {w}: a number of seconds ≥ 0");
            return Err(StoreError::invalid("max_wait_seconds", message));
        }
        if let Some(r) = self.max_failure_rate.filter(|r| !(0.0..=1.0).contains(r)) {
            let message = format!("max failure rate {r}: a fraction between 0 and 1");
            return Err(StoreError::invalid("max_failure_rate", message));
        }
        Ok(())
    }
}

/// Where a touchpoint sits in the journey model and who owns it, as edited; a field left
/// unset keeps what the interactions say.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Placement {
    pub journey: Option<String>,
    pub stage: Option<String>,
    /// Order within its journey (1 first).
    pub position: Option<i64>,
    pub owner: Option<String>,
}

/// One entry of the audit log.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AuditEntry {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

/// One completed import, as logged.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ImportRecord {
    pub at: String,
    pub table_name: String,
    pub files: String,
    pub rows: u64,
    pub rejected: u64,
    pub delta_version: Option<i64>,
    pub seconds: f64,
}

impl OpsDb {
    /// Opens (creating if needed) and migrates the SQLite database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        OpsDb::at(&OpsLocation::Sqlite(path.to_path_buf()))
    }

    /// Connects to (creating a SQLite file if needed) and migrates the database at
    /// `location`; refuses a database whose schema is newer than this build knows.
    pub fn at(location: &OpsLocation) -> Result<Self> {
        let db = OpsDb {
            conn: Conn::open(location)?,
            location: location.clone(),
        };
        db.migrate()?;
        Ok(db)
    }

    fn migrate(&self) -> Result<()> {
        // One statement when the database is up to date (every open but the first).
        if self.current_version(&self.conn).ok() == Some(schema_version()) {
            return Ok(());
        }
        self.conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)",
        )?;
        // Under the write lock, so that of two processes opening a new database at once
        // one migrates and the other then finds it migrated.
        let tx = self.conn.write()?;
        let current = self.current_version(&tx)?;
        for (version, sql) in self.migrations().filter(|(v, _)| *v > current) {
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                params![version, now_text()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// This backend's migrations, each with the version it migrates to.
    fn migrations(&self) -> Box<dyn Iterator<Item = (u32, &'static str)>> {
        if self.conn.is_postgres() {
            Box::new(POSTGRES_MIGRATIONS.iter().copied())
        } else {
            Box::new((1..).zip(MIGRATIONS.iter().copied()))
        }
    }

    /// The schema version, refusing one newer than this build knows.
    fn current_version(&self, conn: &Conn) -> Result<u32> {
        let current: u32 = conn.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )?;
        if current > schema_version() {
            return Err(StoreError::Folder(format!(
                "{}: operational database schema version {current} is newer than this cxray knows ({}): upgrade cxray",
                self.location,
                schema_version()
            )));
        }
        Ok(current)
    }

    /// Rewrites the database file from its live rows and empties the log (after an
    /// erasure): bytes of deleted rows, and stale copies that inserts left in free space
    /// inside pages before secure delete was on, are gone from every file.
    /// On PostgreSQL, its `VACUUM FULL` rewrites every table the same way.
    pub fn rewrite_file(&self) -> Result<()> {
        match self.conn.sqlite() {
            Some(c) => {
                c.execute_batch("VACUUM")?;
                c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            }
            None => self.conn.execute_batch("VACUUM FULL")?,
        }
        Ok(())
    }

    /// The connection, for the modules that keep their tables here.
    pub(crate) fn conn(&self) -> &Conn {
        &self.conn
    }

    /// The schema version the database is at.
    pub fn version(&self) -> Result<u32> {
        Ok(self
            .conn
            .query_row("SELECT MAX(version) FROM schema_migrations", [], |r| {
                r.get(0)
            })?)
    }

    /// Logs a completed import, and the matching audit entry.
    pub fn record_import(&self, actor: &str, record: &ImportRecord) -> Result<()> {
        let tx = self.conn.write()?;
        tx.execute(
            "INSERT INTO imports (at, table_name, files, rows, rejected, delta_version, seconds)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                record.at,
                record.table_name,
                record.files,
                record.rows,
                record.rejected,
                record.delta_version,
                record.seconds
            ],
        )?;
        let detail = format!(
            "{} rows into {} from {}",
            record.rows, record.table_name, record.files
        );
        audit(&tx, actor, "import", &detail)?;
        tx.commit()?;
        Ok(())
    }

    /// Sets (replaces) a touchpoint's service levels, checked, with an audit entry.
    pub fn set_sla(&self, actor: &str, touchpoint: &str, sla: Sla) -> Result<()> {
        sla.check()?;
        let tx = self.conn.write()?;
        tx.execute(
            "INSERT INTO touchpoint_slas (touchpoint, max_wait_seconds, max_failure_rate)
             VALUES (?1, ?2, ?3)
             ON CONFLICT (touchpoint) DO UPDATE SET max_wait_seconds = ?2, max_failure_rate = ?3",
            params![touchpoint, sla.max_wait_seconds, sla.max_failure_rate],
        )?;
        audit(
            &tx,
            actor,
            "set_sla",
            &format!("{touchpoint}: {}", serde_json::to_string(&sla)?),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Removes a touchpoint's service levels, with an audit entry.
    pub fn remove_sla(&self, actor: &str, touchpoint: &str) -> Result<()> {
        let tx = self.conn.write()?;
        let removed = tx.execute(
            "DELETE FROM touchpoint_slas WHERE touchpoint = ?1",
            params![touchpoint],
        )?;
        if removed == 0 {
            return Err(StoreError::Input(format!(
                "no service levels for touchpoint '{touchpoint}'"
            )));
        }
        audit(&tx, actor, "remove_sla", touchpoint)?;
        tx.commit()?;
        Ok(())
    }

    /// Sets (replaces) a touchpoint's placement, checked, with an audit entry; an empty
    /// placement removes the edit.
    pub fn set_placement(&self, actor: &str, touchpoint: &str, p: &Placement) -> Result<()> {
        if let Some(position) = p.position.filter(|p| *p < 1) {
            return Err(StoreError::invalid(
                "position",
                format!("position {position}: 1 or more"),
            ));
        }
        let tx = self.conn.write()?;
        tx.execute(
            "DELETE FROM touchpoint_placements WHERE touchpoint = ?1",
            params![touchpoint],
        )?;
        if *p != Placement::default() {
            tx.execute(
                "INSERT INTO touchpoint_placements (touchpoint, journey, stage, position, owner)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![touchpoint, p.journey, p.stage, p.position, p.owner],
            )?;
        }
        let detail = format!("{touchpoint}: {}", serde_json::to_string(p)?);
        audit(&tx, actor, "set_placement", &detail)?;
        tx.commit()?;
        Ok(())
    }

    /// Every edited touchpoint's placement.
    pub fn placements(&self) -> Result<std::collections::BTreeMap<String, Placement>> {
        let mut stmt = self.conn.prepare(
            "SELECT touchpoint, journey, stage, position, owner FROM touchpoint_placements",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                Placement {
                    journey: r.get(1)?,
                    stage: r.get(2)?,
                    position: r.get(3)?,
                    owner: r.get(4)?,
                },
            ))
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Every touchpoint's service levels.
    pub fn slas(&self) -> Result<std::collections::BTreeMap<String, Sla>> {
        let mut stmt = self.conn.prepare(
            "SELECT touchpoint, max_wait_seconds, max_failure_rate FROM touchpoint_slas",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                Sla {
                    max_wait_seconds: r.get(1)?,
                    max_failure_rate: r.get(2)?,
                },
            ))
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// The id of the newest audit entry of a change the analyses depend on (imports,
    /// service levels, placements, targets, and their removals; 0 when none), so caches of analyses can tell
    /// when to recompute. Sign-ins and account changes do not count.
    pub fn last_data_change(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COALESCE(MAX(id), 0) FROM audit_log
             WHERE action IN ('import', 'set_sla', 'remove_sla', 'set_placement',
                              'set_target', 'remove_target')",
            [],
            |r| r.get(0),
        )?)
    }

    /// The most recent imports, newest first.
    pub fn recent_imports(&self, limit: usize) -> Result<Vec<ImportRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT at, table_name, files, rows, rejected, delta_version, seconds
             FROM imports ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit as i64], |r| {
            Ok(ImportRecord {
                at: r.get(0)?,
                table_name: r.get(1)?,
                files: r.get(2)?,
                rows: r.get(3)?,
                rejected: r.get(4)?,
                delta_version: r.get(5)?,
                seconds: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The most recent audit entries, newest first.
    pub fn recent_audit(&self, limit: usize) -> Result<Vec<AuditEntry>> {
        let mut stmt = self
            .conn
            .prepare("SELECT at, actor, action, detail FROM audit_log ORDER BY id DESC LIMIT ?1")?;
        let rows = stmt.query_map(params![limit as i64], |r| {
            Ok(AuditEntry {
                at: r.get(0)?,
                actor: r.get(1)?,
                action: r.get(2)?,
                detail: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// An operational database at `path` migrated to `version` only, as an older cxray left
/// it, for tests of the later migrations.
#[cfg(test)]
pub(crate) fn db_at_version(path: &Path, version: usize) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).expect("a new database");
    conn.execute_batch(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
    )
    .expect("the migrations table");
    for (i, sql) in MIGRATIONS[..version].iter().enumerate() {
        conn.execute_batch(sql).expect("a migration");
        conn.execute(
            "INSERT INTO schema_migrations VALUES (?1, 'then')",
            rusqlite::params![i + 1],
        )
        .expect("its version");
    }
    conn
}

/// A new operational database in a temporary directory, for tests.
#[cfg(test)]
pub(crate) fn temp_db() -> (tempfile::TempDir, OpsDb) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = OpsDb::open(&dir.path().join("cxray.db")).expect("a new database");
    (dir, db)
}

/// Now, to the second, for the `*_at` columns people read.
pub(crate) fn now_text() -> String {
    stored(chrono::Utc::now())
}

/// A time as stored: RFC 3339 to the second in UTC, so text order is time order.
pub(crate) fn stored(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Column `i` of a row, read as text by `parse`.
pub(crate) fn parse_column<T, E: std::fmt::Display>(
    r: &crate::db::Row,
    i: usize,
    parse: impl FnOnce(&str) -> std::result::Result<T, E>,
) -> DbResult<T> {
    let text: String = r.get(i)?;
    parse(&text).map_err(|e| bad_column(r, i, e))
}

/// Column `i` of a row, read as text by `parse`; none where null.
pub(crate) fn parse_optional<T, E: std::fmt::Display>(
    r: &crate::db::Row,
    i: usize,
    parse: impl FnOnce(&str) -> std::result::Result<T, E>,
) -> DbResult<Option<T>> {
    let text: Option<String> = r.get(i)?;
    text.map(|t| parse(&t).map_err(|e| bad_column(r, i, e)))
        .transpose()
}

/// A stored value of column `i` that is not what it should be.
pub(crate) fn bad_column(
    r: &crate::db::Row,
    i: usize,
    e: impl std::fmt::Display,
) -> crate::db::DbError {
    crate::db::DbError::Column {
        column: r.name(i).to_string(),
        message: e.to_string(),
    }
}

/// Appends an entry to the audit log (inside the caller's transaction).
pub(crate) fn audit(conn: &Conn, actor: &str, action: &str, detail: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO audit_log (at, actor, action, detail) VALUES (?1, ?2, ?3, ?4)",
        params![chrono::Utc::now().to_rfc3339(), actor, action, detail],
    )?;
    Ok(())
}

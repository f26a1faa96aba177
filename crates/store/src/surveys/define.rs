//! Surveys, invitation rules and the contact policy: added, listed, found, set — each
//! change audited. Fields are checked by the core; what needs the data (the touchpoints)
//! by the caller before anything is stored.

use crate::db::{OptionalExtension, params};
use cxray_core::cases::trigger::parse_instrument;
use cxray_core::surveys::{ContactPolicy, InvitationRule, Survey};

use super::{StoredRule, StoredSurvey};
use crate::ops::{OpsDb, audit, now_text, parse_column};
use crate::{Result, StoreError};

const SURVEY_COLUMNS: &str =
    "id, name, touchpoint, questions, comment, languages, public_id, enabled";
const RULE_COLUMNS: &str = "r.id, r.name, s.name, r.touchpoint, r.delay_hours, r.sample_rate, \
     r.customers, r.survey_cooldown_days, r.touchpoint_cooldown_days, r.enabled, r.watermark, \
     r.survey_id";

impl OpsDb {
    /// Records a survey, refused when a field is wrong or its name (ignoring case) is
    /// taken. Audited. Returns it as stored, with its anonymous link's id.
    pub fn add_survey(&self, actor: &str, survey: &Survey) -> Result<StoredSurvey> {
        survey.check().map_err(invalid)?;
        let tx = self.conn().write()?;
        if taken(&tx, "surveys", &survey.name)? {
            let message = format!("a survey named '{}' exists already", survey.name);
            return Err(StoreError::invalid("name", message));
        }
        let questions: Vec<&str> = survey.questions.iter().map(|q| q.name()).collect();
        let public_id = crate::accounts::random_token()?[..24].to_string();
        tx.execute(
            "INSERT INTO surveys (name, touchpoint, questions, comment, languages, public_id,
                                  created_by, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                survey.name,
                survey.touchpoint,
                questions.join(","),
                survey.comment,
                survey.languages.join(","),
                public_id,
                actor,
                now_text()
            ],
        )?;
        audit(&tx, actor, "add_survey", &survey.name)?;
        tx.commit()?;
        self.survey(&survey.name)
    }

    /// Every survey, by name.
    pub fn surveys(&self) -> Result<Vec<StoredSurvey>> {
        let sql = format!("SELECT {SURVEY_COLUMNS} FROM surveys ORDER BY name");
        let mut stmt = self.conn().prepare(&sql)?;
        let rows = stmt.query_map([], read_survey)?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// The survey with this id or name (ignoring case); an error listing the names if none.
    pub fn survey(&self, id_or_name: &str) -> Result<StoredSurvey> {
        let found = self
            .conn()
            .query_row(
                &format!(
                    "SELECT {SURVEY_COLUMNS} FROM surveys
                     WHERE name = ?1 OR CAST(id AS TEXT) = ?1"
                ),
                [id_or_name.trim()],
                read_survey,
            )
            .optional()?;
        let names = || {
            self.surveys()
                .map(|all| all.into_iter().map(|s| s.survey.name))
        };
        found.map_or_else(|| Err(unknown("survey", id_or_name, names()?)), Ok)
    }

    /// The survey whose anonymous link has this id, if any.
    pub fn survey_by_public_id(&self, public_id: &str) -> Result<Option<StoredSurvey>> {
        let sql = format!("SELECT {SURVEY_COLUMNS} FROM surveys WHERE public_id = ?1");
        Ok(self
            .conn()
            .query_row(&sql, [public_id], read_survey)
            .optional()?)
    }

    /// Records an invitation rule for an existing survey, refused when a field is wrong
    /// or its name is taken. Its watermark starts at `watermark` (the interactions'
    /// version whose rows it leaves alone; none to evaluate them all). Audited.
    pub fn add_survey_rule(
        &self,
        actor: &str,
        rule: &InvitationRule,
        watermark: Option<u64>,
    ) -> Result<StoredRule> {
        rule.check().map_err(invalid)?;
        let survey = self.survey(&rule.survey)?;
        let tx = self.conn().write()?;
        if taken(&tx, "survey_rules", &rule.name)? {
            let message = format!("an invitation rule named '{}' exists already", rule.name);
            return Err(StoreError::invalid("name", message));
        }
        tx.execute(
            "INSERT INTO survey_rules (name, survey_id, touchpoint, delay_hours, sample_rate,
                 customers, survey_cooldown_days, touchpoint_cooldown_days, watermark,
                 created_by, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                rule.name,
                survey.id,
                rule.touchpoint,
                rule.delay_hours,
                rule.sample_rate,
                rule.customers
                    .as_ref()
                    .map(|c| format!("{}={}", c.column, c.value)),
                rule.survey_cooldown_days,
                rule.touchpoint_cooldown_days,
                watermark.map(|v| v as i64),
                actor,
                now_text()
            ],
        )?;
        audit(&tx, actor, "add_survey_rule", &rule.name)?;
        tx.commit()?;
        let rules = self.survey_rules()?;
        Ok(rules
            .into_iter()
            .find(|r| r.rule.name.eq_ignore_ascii_case(&rule.name))
            .expect("the rule just added"))
    }

    /// Every invitation rule, by id.
    pub fn survey_rules(&self) -> Result<Vec<StoredRule>> {
        let sql = format!(
            "SELECT {RULE_COLUMNS} FROM survey_rules r JOIN surveys s ON s.id = r.survey_id
             ORDER BY r.id"
        );
        let mut stmt = self.conn().prepare(&sql)?;
        let rows = stmt.query_map([], read_rule)?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// The contact policy: as set, or the defaults.
    pub fn contact_policy(&self) -> Result<ContactPolicy> {
        let found = self
            .conn()
            .query_row(
                "SELECT global_cooldown_days, window_days, max_in_window, reminders,
                        reminder_gap_days, expiry_days, holdout_share
                 FROM contact_policy WHERE id = 1",
                [],
                |r| {
                    Ok(ContactPolicy {
                        global_cooldown_days: r.get(0)?,
                        window_days: r.get(1)?,
                        max_in_window: r.get(2)?,
                        reminders: r.get(3)?,
                        reminder_gap_days: r.get(4)?,
                        expiry_days: r.get(5)?,
                        holdout_share: r.get(6)?,
                    })
                },
            )
            .optional()?;
        Ok(found.unwrap_or_default())
    }

    /// Sets the contact policy, refused when a limit is wrong. Audited.
    pub fn set_contact_policy(&self, actor: &str, p: &ContactPolicy) -> Result<()> {
        p.check().map_err(invalid)?;
        let tx = self.conn().write()?;
        tx.execute(
            "INSERT INTO contact_policy (id, global_cooldown_days, window_days,
                 max_in_window, reminders, reminder_gap_days, expiry_days, holdout_share,
                 set_by, set_at)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (id) DO UPDATE SET global_cooldown_days = excluded.global_cooldown_days,
                 window_days = excluded.window_days, max_in_window = excluded.max_in_window,
                 reminders = excluded.reminders, reminder_gap_days = excluded.reminder_gap_days,
                 expiry_days = excluded.expiry_days, holdout_share = excluded.holdout_share,
                 set_by = excluded.set_by, set_at = excluded.set_at",
            params![
                p.global_cooldown_days,
                p.window_days,
                p.max_in_window,
                p.reminders,
                p.reminder_gap_days,
                p.expiry_days,
                p.holdout_share,
                actor,
                now_text()
            ],
        )?;
        let detail = serde_json::to_string(p).unwrap_or_default();
        audit(&tx, actor, "set_contact_policy", &detail)?;
        tx.commit()?;
        Ok(())
    }
}

fn invalid(e: cxray_core::surveys::SurveyError) -> StoreError {
    StoreError::invalid(e.field, e.to_string())
}

fn taken(conn: &crate::db::Conn, table: &str, name: &str) -> Result<bool> {
    let sql = format!("SELECT 1 FROM {table} WHERE name = ?1");
    Ok(conn
        .query_row(&sql, [name], |_| Ok(()))
        .optional()?
        .is_some())
}

fn unknown(what: &str, name: &str, names: impl Iterator<Item = String>) -> StoreError {
    let names: Vec<String> = names.collect();
    let list = match names.is_empty() {
        true => "none recorded".to_string(),
        false => names.join(", "),
    };
    StoreError::Input(format!(
        "no {what} named '{}' ({what}s: {list})",
        name.trim()
    ))
}

fn read_survey(r: &crate::db::Row) -> crate::db::DbResult<StoredSurvey> {
    let questions = parse_column(r, 3, |text| {
        text.split(',')
            .map(parse_instrument)
            .collect::<std::result::Result<Vec<_>, _>>()
    })?;
    let languages: String = r.get(5)?;
    Ok(StoredSurvey {
        id: r.get(0)?,
        survey: Survey {
            name: r.get(1)?,
            touchpoint: r.get(2)?,
            questions,
            comment: r.get(4)?,
            languages: languages.split(',').map(String::from).collect(),
        },
        public_id: r.get(6)?,
        enabled: r.get(7)?,
    })
}

fn read_rule(r: &crate::db::Row) -> crate::db::DbResult<StoredRule> {
    let customers: Option<String> = r.get(6)?;
    let customers = match customers {
        Some(text) => Some(parse_column(r, 6, |_| text.parse())?),
        None => None,
    };
    let watermark: Option<i64> = r.get(10)?;
    Ok(StoredRule {
        id: r.get(0)?,
        survey_id: r.get(11)?,
        rule: InvitationRule {
            name: r.get(1)?,
            survey: r.get(2)?,
            touchpoint: r.get(3)?,
            delay_hours: r.get(4)?,
            sample_rate: r.get(5)?,
            customers,
            survey_cooldown_days: r.get(7)?,
            touchpoint_cooldown_days: r.get(8)?,
        },
        enabled: r.get(9)?,
        watermark: watermark.map(|v| v as u64),
    })
}

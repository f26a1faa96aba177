//! The command line: every command, its options and its help text.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use cxray_core::access::{Role, Scope};
use cxray_core::cases::{CaseStatus, Experience, OutcomeKind};
use cxray_core::domain::Table;
use cxray_core::erasure::ErasedRows;
use cxray_core::initiatives::Status;
use cxray_core::schedule::{Recipient, RecipientError, ReportCadence};
use cxray_core::targets::Headline;
use cxray_core::webhook::WebhookEvent;

use crate::choices::{
    AnyModel, CohortLength, Defection, DriverMethod, EstimatorChoice, FileFormat,
    InitiativeOutcome, Metric, Outcome, PackFormat, RateBy, TermGroups, TransactionModel, Unit,
    named,
};

/// cxray turns customer experience into hard numbers.
#[derive(Debug, Parser)]
#[command(name = "cxray", version, about, propagate_version = true)]
pub struct Cli {
    /// The data folder: a local folder, or its tables on object storage
    /// (s3://bucket/prefix, gs://…, az://…) [default: $CXRAY_DATA, the config file's
    /// `data`, or ./cxray-data].
    #[arg(long, global = true, value_name = "DIR|URL")]
    pub data: Option<PathBuf>,
    /// The local state folder of a data folder on object storage: the operational
    /// database, the ingestion's write-ahead log, derived data [default: $CXRAY_STATE,
    /// the config file's `state`, or ~/.local/state/cxray/<scheme>/<bucket>/<prefix>].
    #[arg(long, global = true, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// The operational database on PostgreSQL, shared by several servers
    /// (postgres://user:password@host:port/database) [default: $CXRAY_OPS, the config
    /// file's `ops`, or SQLite: cxray.db in the data or state folder].
    #[arg(long, global = true, value_name = "URL")]
    pub ops: Option<String>,
    /// Where the queries over the tables run: embedded (in this process) or an Apache
    /// DataFusion Ballista cluster, ballista://host:port [default: $CXRAY_ENGINE, the
    /// config file's `engine`, or embedded].
    #[arg(long, global = true, value_name = "ENGINE")]
    pub engine: Option<String>,
    /// A TOML config file [default: $CXRAY_CONFIG, or ./cxray.toml if present].
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print results as JSON with stable keys.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the data folder: the event tables and the operational database.
    Init,
    /// Import files into an event table, all or nothing.
    Import(ImportArgs),
    /// Run a SQL query over the event tables.
    Sql(SqlArgs),
    /// List the tables: rows, Delta version, files, size, checkpoint, last change.
    Tables,
    /// Serve the web application and the API.
    Serve(ServeArgs),
    /// Run a process of an Apache DataFusion Ballista cluster, which runs the queries of
    /// servers and commands started with --engine ballista://host:port.
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// Build the demo world (a fictional airline), then serve it.
    Demo(DemoArgs),
    /// Customer-base models: who is still a customer, what each will buy and is worth.
    #[command(subcommand)]
    Loyalty(LoyaltyCommand),
    /// A survey metric (nps, csat, ces, grade) with its 95% interval, by any slice.
    Metrics(MetricsArgs),
    /// Compare a survey metric between two groups of responses.
    Compare(CompareArgs),
    /// The satisfaction–loyalty link: what respondents said against what they then did.
    Link(LinkArgs),
    /// Driver analysis: how much each predictor explains of an outcome, with intervals.
    Drivers(DriversArgs),
    /// Initiatives: what a change did, measured against a control.
    #[command(subcommand)]
    Initiative(InitiativeCommand),
    /// What a proposed fix would keep: a share fewer bad experiences at touchpoints,
    /// priced in customers and money a year with intervals, the fixes ranked.
    Whatif(WhatIfArgs),
    /// What customers write: sentiment and distinguishing terms of the comments (personal
    /// data redacted first).
    #[command(subcommand)]
    Text(TextCommand),
    /// The executive scorecard: equity, retention, stated scores, satisfied defectors,
    /// revenue at risk and the weakest areas — what the scorecard page shows.
    Scorecard,
    /// The board pack: one period's scorecard, the weak areas and the journey map as
    /// printable A4 landscape pages (a PDF printed by headless Chromium, or its HTML).
    Report(ReportArgs),
    /// The journey map: touchpoints with owners, performance, dropout and money at risk;
    /// owners' totals and hand-offs.
    Journey(JourneyArgs),
    /// The weak-area map: money at risk against performance, ranked.
    Areas(JourneyArgs),
    /// One owner's scorecard: touchpoints, performance, money at risk, monthly trend.
    Owner(OwnerArgs),
    /// Show, set or remove touchpoint service levels (maximum wait, maximum failure rate).
    Sla(SlaArgs),
    /// Show or edit where touchpoints sit in the journey model (journey, stage, position)
    /// and who owns them; edits override what the interactions say.
    Touchpoint(PlacementArgs),
    /// Users of the web application and their roles.
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens: scoped (read, ingest), shown once, stored hashed.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Targets for the headline metrics, per period.
    #[command(subcommand)]
    Target(TargetCommand),
    /// Rules that open follow-up cases: on survey answers or touchpoint experiences.
    #[command(subcommand)]
    Trigger(TriggerCommand),
    /// Follow-up cases: open the new ones, list, show and work on them.
    #[command(subcommand)]
    Cases(CasesCommand),
    /// Webhook endpoints that case events and survey answers are posted to, signed (Standard Webhooks).
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Surveys: what is asked after which touchpoint, who is invited under one contact
    /// policy, and why anyone was not.
    #[command(subcommand)]
    Survey(SurveyCommand),
    /// Remove data files no table version within the retention needs, the orphans of
    /// failed or killed imports included.
    Vacuum(VacuumArgs),
    /// Rewrite tables into few large files — the event tables clustered by time and
    /// touchpoint (Z-order) — and write a Delta checkpoint; safe while the server ingests.
    Optimize(OptimizeArgs),
    /// Check the data folder: tables and their files, the operational database, the
    /// write-ahead log. Exit code 1 when anything is wrong.
    Check,
    /// Copy the data folder into a new folder DIR, consistently, while the server may run.
    Backup(BackupArgs),
    /// Bring the backup in DIR back into a new data folder (--data), and check it.
    Restore(BackupArgs),
    /// Erase customers (right to erasure): their rows in every table and the write-ahead
    /// log, and every file that held them. Not while the server runs.
    Forget(ForgetArgs),
}

#[derive(Debug, Subcommand)]
pub enum TriggerCommand {
    /// Add a rule: on a survey answer (--instrument and --score), on an experience at a
    /// touchpoint (--touchpoint and --experience), or on behaviour (--p-alive-below). It
    /// watches the data that arrives from now on, and with --since also the events
    /// already there from that day.
    Add(TriggerAddArgs),
    /// List the rules.
    List,
    /// Disable a rule (by id or name): it opens no more cases; its cases stay.
    Disable { rule: String },
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("on").required(true).args(["instrument", "experience", "p_alive_below"]))]
pub struct TriggerAddArgs {
    /// The rule's name (unique).
    #[arg(long)]
    pub name: String,
    /// A survey rule: the instrument of the answers it watches.
    #[arg(long, value_enum, ignore_case = true, requires = "score")]
    pub instrument: Option<Metric>,
    /// The survey rule's score condition: <=6, >=5, <=D (grades by letter or points).
    #[arg(long, requires = "instrument", allow_hyphen_values = true)]
    pub score: Option<String>,
    /// The touchpoint (optional for survey rules).
    #[arg(long)]
    pub touchpoint: Option<String>,
    /// An experience rule: which experiences at the touchpoint open a case.
    #[arg(
        long,
        requires = "touchpoint",
        ignore_case = true,
        value_parser = named(Experience::ALL, Experience::name)
    )]
    pub experience: Option<Experience>,
    /// A behaviour rule: customers whose P(alive) fell below this probability between
    /// two `cxray loyalty predict` runs (cases go to --fallback-owner).
    #[arg(long, conflicts_with_all = ["touchpoint", "since"])]
    pub p_alive_below: Option<f64>,
    /// Only customers whose CLV at the latest `loyalty predict` is above this percentile
    /// (0 to 100, e.g. 80 for the top fifth).
    #[arg(long, value_name = "PERCENTILE", allow_negative_numbers = true)]
    pub min_clv_percentile: Option<f64>,
    /// Only customers whose column equals the value, e.g. segment=business (repeatable).
    #[arg(long = "customer", value_name = "COLUMN=VALUE")]
    pub customers: Vec<String>,
    /// The owner (owners.owner_id) of cases whose touchpoint has none.
    #[arg(long)]
    pub fallback_owner: Option<String>,
    /// No second case from the rule for a customer within this many days.
    #[arg(long, default_value_t = 30)]
    pub cooldown_days: u32,
    /// The share of triggered customers held out, not followed up, to measure the effect
    /// (0 to 0.5).
    #[arg(long, default_value_t = 0.1)]
    pub holdout: f64,
    /// Also the events already in the tables, from this day (YYYY-MM-DD) on.
    #[arg(long)]
    pub since: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum CasesCommand {
    /// Evaluate the rules against the data that arrived since they last ran, and open
    /// the cases (also done after every import).
    Scan,
    /// List cases, newest first.
    List(CasesListArgs),
    /// One case and its history.
    Show { id: i64 },
    /// Work on a case: status, assignee, owner, root cause, outcome, a note.
    Update(CaseUpdateArgs),
    /// The root causes cases may name, a hierarchy such as `baggage > delayed`.
    Causes(CausesArgs),
    /// The root causes counted and priced: each cause's cases (its own and those below
    /// it), their customers, and those customers' lifetime value, the costliest first.
    Costs,
    /// What following up changed: followed-up against held-out cases, by intention to
    /// treat, over windows after the cases (overall, per rule, owner and outcome).
    Effect(CasesEffectArgs),
    /// Mark overdue cases and escalate those due (to the owner's lead, then the
    /// administrators), write the notifications waiting, and deliver them: webhooks, and
    /// e-mails when a mail server is set (`smtp_url`). The server does this every minute.
    Escalate,
    /// The owners' leads: where an owner's overdue cases escalate first. With --email,
    /// sets OWNER's lead; with --remove, removes it; then lists them.
    Lead {
        /// The owner (owners.owner_id).
        owner: Option<String>,
        /// The lead's e-mail address.
        #[arg(long, requires = "owner", conflicts_with = "remove")]
        email: Option<String>,
        #[arg(long, requires = "owner")]
        remove: bool,
    },
    /// The business hours service levels count in, for cases opened from then on: with
    /// HOURS (`"Mon-Fri 08:00-17:00 Europe/Copenhagen"`, public holidays after `closed`:
    /// `"… Europe/Copenhagen closed 2026-12-24,2026-12-25"`) sets them, with --clear
    /// counts every hour again; then prints them.
    Hours {
        hours: Option<String>,
        #[arg(long, conflicts_with = "hours")]
        clear: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Add an endpoint; prints its signing secret (whsec_…) once.
    Add {
        /// Where messages are posted: an http:// or https:// address.
        url: String,
        /// Only these events (repeatable) [default: every event].
        #[arg(long = "event", ignore_case = true, value_parser = named(WebhookEvent::ALL, WebhookEvent::name))]
        events: Vec<WebhookEvent>,
    },
    /// List the endpoints (never their secrets).
    List,
    /// Stop posting to an endpoint; its waiting messages are kept.
    Disable { id: i64 },
    /// Post to an endpoint again, its waiting messages first.
    Enable { id: i64 },
    /// An endpoint's delivery log: its most recent messages, newest first.
    Deliveries {
        id: i64,
        /// How many to list.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

#[derive(Debug, Args)]
pub struct CasesEffectArgs {
    /// Only cases of this rule (id or name).
    #[arg(long)]
    pub rule: Option<String>,
    /// Windows after each case, in days.
    #[arg(long, value_delimiter = ',', default_values_t = [90, 180])]
    pub window_days: Vec<u32>,
    /// The effect on buying again, in percentage points, whose number of cases needed
    /// is shown.
    #[arg(long, default_value_t = 5.0)]
    pub detect_points: f64,
}

#[derive(Debug, Args)]
pub struct CasesListArgs {
    /// Only this owner's cases.
    #[arg(long)]
    pub owner: Option<String>,
    #[arg(long, ignore_case = true, value_parser = named(CaseStatus::ALL, CaseStatus::name))]
    pub status: Option<CaseStatus>,
    /// Only cases past their first-contact or resolution deadline.
    #[arg(long)]
    pub overdue: bool,
    /// Only cases of this rule (id or name).
    #[arg(long)]
    pub trigger: Option<String>,
    /// Only cases with this root cause or one below it.
    #[arg(long)]
    pub root_cause: Option<String>,
    /// At most this many.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
}

#[derive(Debug, Args)]
pub struct CaseUpdateArgs {
    pub id: i64,
    #[arg(long, ignore_case = true, value_parser = named(CaseStatus::ALL, CaseStatus::name))]
    pub status: Option<CaseStatus>,
    /// Who works on it.
    #[arg(long)]
    pub assignee: Option<String>,
    /// Hand it to another owner (owners.owner_id).
    #[arg(long)]
    pub owner: Option<String>,
    /// One of the root causes (`cxray cases causes`).
    #[arg(long)]
    pub root_cause: Option<String>,
    /// What the follow-up did.
    #[arg(long, ignore_case = true, value_parser = named(OutcomeKind::ALL, OutcomeKind::name))]
    pub outcome: Option<OutcomeKind>,
    /// A compensation's amount.
    #[arg(long, requires = "outcome")]
    pub amount: Option<f64>,
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Debug, Args)]
pub struct CausesArgs {
    /// Add a root cause (and the causes above it), e.g. "baggage > delayed".
    #[arg(long)]
    pub add: Vec<String>,
    /// Remove a root cause and the causes below it.
    #[arg(long)]
    pub remove: Vec<String>,
}

#[derive(Debug, Args)]
#[command(subcommand_negates_reqs = true, args_conflicts_with_subcommands = true)]
pub struct ReportArgs {
    /// A month (2025-03), a quarter (2025-Q2) or a year (2025) [default: the quarter of
    /// the data's last purchase].
    #[arg(long)]
    pub period: Option<String>,
    /// The file to write.
    #[arg(long, value_name = "FILE", required = true)]
    pub out: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "pdf")]
    pub format: PackFormat,
    #[command(flatten)]
    pub chromium: ChromiumArg,
    #[command(subcommand)]
    pub command: Option<ReportCommand>,
}

#[derive(Debug, Args)]
pub struct ChromiumArg {
    /// The Chromium (or Chrome) binary that prints the PDF [default: the config file's
    /// `chromium`, else chromium, chromium-browser, google-chrome on PATH].
    #[arg(long, value_name = "PATH")]
    pub chromium: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Schedules that e-mail the board pack (the server sends them when due).
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// Queue the packs of the schedules due now (or of one schedule, out of turn), then
    /// hand every waiting e-mail to the mail server (`smtp_url` in the config).
    Send {
        /// Send this schedule's pack now, whether due or not.
        #[arg(long, value_name = "ID")]
        schedule: Option<i64>,
        #[command(flatten)]
        chromium: ChromiumArg,
    },
    /// The most recent e-mails of the outbox: sent, waiting for another try, or given up.
    Outbox {
        /// How many to list.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Add a schedule, e.g. `cxray report schedule add monthly --to role:executive
    /// --to cfo@example.com`. Weekly packs go out on Mondays, monthly ones on the 1st,
    /// quarterly ones on the first day of a quarter, at 06:00 UTC.
    Add {
        #[arg(ignore_case = true, value_parser = named(ReportCadence::ALL, ReportCadence::name))]
        cadence: ReportCadence,
        /// A recipient: an e-mail address, or every active user of a role
        /// (role:admin, role:executive, role:analyst). Repeat for more.
        #[arg(long = "to", required = true, value_name = "RECIPIENT", value_parser = recipient)]
        recipients: Vec<Recipient>,
    },
    /// List the schedules.
    List,
    /// Remove a schedule (e-mails it already queued are still sent).
    Remove {
        /// The schedule's id (from `list`).
        id: i64,
    },
}

fn recipient(text: &str) -> Result<Recipient, String> {
    text.parse().map_err(|e: RecipientError| e.to_string())
}

#[derive(Debug, Args)]
pub struct ForgetArgs {
    /// The customer ids (customers.customer_id).
    #[arg(required = true)]
    pub customers: Vec<String>,
    /// Why, for the audit log (which records the erasure by a keyed hash, never the id).
    #[arg(long)]
    pub reason: Option<String>,
}

#[derive(Debug, Args)]
pub struct VacuumArgs {
    /// Keep what versions younger than this need (time travel), and orphan files younger
    /// than this (an import still running).
    #[arg(long, default_value_t = 168)]
    pub retain_hours: u64,
}

#[derive(Debug, Args)]
pub struct OptimizeArgs {
    /// The table to optimize [default: every table].
    #[arg(value_parser = named(&Table::ALL, Table::name))]
    pub table: Option<Table>,
    /// The size of the files written, in MiB [default: Delta's, 100].
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub target_size: Option<u64>,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The backup folder (new or empty for `backup`).
    pub dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; prints a generated password unless --password-stdin.
    Add(UserAddArgs),
    /// List the users.
    List,
    /// Disable a user: their sessions end and their API tokens stop working.
    Disable { email: String },
    /// Set a user's password (generated and printed unless --password-stdin); their
    /// sessions end.
    Password {
        email: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Args)]
pub struct UserAddArgs {
    #[arg(long)]
    pub email: String,
    /// The name shown in the application.
    #[arg(long)]
    pub name: String,
    /// What the user may see and do.
    #[arg(long, ignore_case = true, value_parser = named(Role::ALL, Role::name))]
    pub role: Role,
    /// For owners and partners: the owner (owners.owner_id) they belong to.
    #[arg(long)]
    pub owner: Option<String>,
    /// Read the password (at least 12 characters) from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token acting as a user; prints it once.
    Add {
        /// The user the token acts as.
        #[arg(long)]
        email: String,
        /// What the token is for.
        #[arg(long)]
        name: String,
        /// What it may do, comma-separated.
        #[arg(
            long,
            required = true,
            value_delimiter = ',',
            ignore_case = true,
            value_parser = named(Scope::ALL, Scope::name)
        )]
        scopes: Vec<Scope>,
    },
    /// List the tokens (never the tokens themselves).
    List,
    /// Revoke a token by id.
    Revoke { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum TargetCommand {
    /// Set a metric's target for a period, e.g. `cxray target set nps 2025-Q1 35`.
    #[command(allow_negative_numbers = true)]
    Set {
        /// The headline metric.
        #[arg(ignore_case = true, value_parser = named(Headline::ALL, Headline::name))]
        metric: Headline,
        /// A year (2025), a quarter (2025-Q1) or a month (2025-03).
        period: String,
        /// In the metric's unit: NPS −100…100, CSAT %, CES 1…7, grade 0…4, retention and
        /// satisfied-defector share as fractions, customer equity in money.
        value: f64,
    },
    /// List the targets.
    List,
    /// Remove a metric's target for a period.
    Remove {
        /// The headline metric.
        #[arg(ignore_case = true, value_parser = named(Headline::ALL, Headline::name))]
        metric: Headline,
        /// A year (2025), a quarter (2025-Q1) or a month (2025-03).
        period: String,
    },
}

#[derive(Debug, Args)]
pub struct JourneyArgs {
    /// Days after a trip within which a purchase counts as staying.
    #[arg(long, default_value_t = 180)]
    pub window_days: u32,
}

#[derive(Debug, Args)]
pub struct OwnerArgs {
    /// The owner's id (owners.owner_id).
    pub owner: String,
    #[command(flatten)]
    pub journey: JourneyArgs,
}

#[derive(Debug, Args)]
pub struct SlaArgs {
    /// The touchpoint to set; without it, list every service level.
    pub touchpoint: Option<String>,
    /// The longest acceptable wait, in seconds.
    #[arg(long)]
    pub max_wait_seconds: Option<f64>,
    /// The highest acceptable failure rate, a fraction (0.05 = 5%).
    #[arg(long)]
    pub max_failure_rate: Option<f64>,
    /// Remove the touchpoint's service levels.
    #[arg(long, requires = "touchpoint", conflicts_with_all = ["max_wait_seconds", "max_failure_rate"])]
    pub remove: bool,
}

#[derive(Debug, Args)]
pub struct PlacementArgs {
    /// The touchpoint to show or edit; without it, list every edit.
    pub touchpoint: Option<String>,
    #[arg(long)]
    pub journey: Option<String>,
    #[arg(long)]
    pub stage: Option<String>,
    /// Order within its journey (1 first).
    #[arg(long)]
    pub position: Option<i64>,
    /// The owner's id (owners.owner_id).
    #[arg(long)]
    pub owner: Option<String>,
    /// Remove the touchpoint's edit: back to what the interactions say.
    #[arg(long, conflicts_with_all = ["journey", "stage", "position", "owner"])]
    pub reset: bool,
}

#[derive(Debug, Args)]
pub struct DriversArgs {
    /// A query whose first column is the outcome and whose other columns are the
    /// predictors; files can be named by path: SELECT * FROM 'survey.csv'.
    #[arg(long, conflicts_with = "outcome", required_unless_present = "outcome")]
    pub sql: Option<String>,
    /// Explain behaviour after each trip by bad experiences per touchpoint (with past
    /// purchases and tenure as controls).
    #[arg(long, value_enum)]
    pub outcome: Option<Outcome>,
    /// With --outcome: a separate analysis for each value of this customers' column
    /// (e.g. segment).
    #[arg(long, requires = "outcome")]
    pub by: Option<String>,
    #[command(flatten)]
    pub journey: JourneyArgs,
    /// How importance is split between the predictors.
    #[arg(long, value_enum, default_value_t = DriverMethod::Auto)]
    pub method: DriverMethod,
    /// Logistic regression of a 0/1 outcome (importance splits McFadden's pseudo-R²).
    #[arg(long)]
    pub logistic: bool,
    /// Bootstrap resamples for the intervals (0: none).
    #[arg(long, default_value_t = 200)]
    pub resamples: usize,
    /// Seed of the bootstrap: the same seed gives the same intervals.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Subcommand)]
pub enum SurveyCommand {
    /// Add a survey: its questions (nps, csat, ces, grade), a comment box, its languages
    /// (the first the default) and the touchpoint it asks about.
    Add(SurveyAddArgs),
    /// List the surveys.
    List,
    /// Show a survey (by id or name): questions, languages, rules, invitations by status
    /// and suppressions by reason.
    Show { survey: String },
    /// Invitation rules: who is invited to which survey after which touchpoint.
    #[command(subcommand)]
    Rule(SurveyRuleCommand),
    /// Show the contact policy every survey and channel obeys, or set its limits.
    Policy(PolicyArgs),
    /// Evaluate the invitation rules on the interactions they have not seen.
    Scan,
    /// Hand out the invitations due now as personal links: a CSV of customer, link and
    /// expiry for an SMS or mail sender.
    Links(LinksArgs),
    /// Why a customer was or was not asked: every contact decision about them.
    Why { customer: String },
    /// What being asked does: the never-ask holdout against the other customers the rules
    /// triggered on (asked or not), on buying again within the window after the first
    /// trigger (the mere-measurement effect), with the difference's 95% interval.
    Holdout {
        /// Days after the decision within which a purchase counts.
        #[arg(long, default_value_t = 180)]
        window_days: u32,
    },
    /// Response rates and reach: the invitations sent by survey, touchpoint, channel or
    /// week — answered (with the Wilson interval), reminded, expired, customers reached,
    /// median hours to answer.
    Rates {
        #[arg(long, value_enum, ignore_case = true, default_value_t = RateBy::Survey)]
        by: RateBy,
    },
    /// Who answers: responders against non-responders on what is known of both, and the
    /// NPS weighted to everyone asked — the invitations sent once answers to them were
    /// collected, else every trip.
    Respondents {
        /// Count every trip as asked, even when answers came through invitations.
        #[arg(long)]
        every_trip: bool,
        /// Count the invitations sent as asked, even before any answer came through one.
        #[arg(long, conflicts_with = "every_trip")]
        sent: bool,
    },
}

#[derive(Debug, Args)]
pub struct SurveyAddArgs {
    /// The survey's name (unique, ignoring case).
    #[arg(long)]
    pub name: String,
    /// The scored questions, in order.
    #[arg(long, value_delimiter = ',', required = true)]
    pub questions: Vec<String>,
    /// Ask for a free comment after the questions.
    #[arg(long)]
    pub comment: bool,
    /// The languages (en, de, fr, es), the first the default.
    #[arg(long, value_delimiter = ',', default_value = "en")]
    pub languages: Vec<String>,
    /// The touchpoint it asks about; none for a relationship survey.
    #[arg(long)]
    pub touchpoint: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum SurveyRuleCommand {
    /// Add a rule: after an interaction at --touchpoint, invite to --survey after a
    /// delay, a sample of the customers meeting a condition. It watches the interactions
    /// that arrive from now on, with --all-history also those already there.
    Add(SurveyRuleArgs),
    /// List the rules.
    List,
}

#[derive(Debug, Args)]
pub struct SurveyRuleArgs {
    /// The rule's name (unique, ignoring case).
    #[arg(long)]
    pub name: String,
    /// The survey it invites to.
    #[arg(long)]
    pub survey: String,
    /// The touchpoint whose interactions trigger it (the survey's when not given).
    #[arg(long)]
    pub touchpoint: Option<String>,
    /// Hours from the interaction to the invitation.
    #[arg(long, default_value_t = 24.0, allow_hyphen_values = true)]
    pub delay_hours: f64,
    /// The share of triggered customers invited (a keyed hash of customer and event).
    #[arg(long, default_value_t = 1.0, allow_hyphen_values = true)]
    pub sample_rate: f64,
    /// Only customers whose column equals the value, e.g. segment=business.
    #[arg(long)]
    pub customers: Option<String>,
    /// Days in which a customer is not invited to this survey again.
    #[arg(long, default_value_t = 90, allow_hyphen_values = true)]
    pub survey_cooldown_days: i64,
    /// Days in which a customer is not asked about this touchpoint again.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    pub touchpoint_cooldown_days: i64,
    /// Evaluate the interactions already there too, not only those from now on.
    #[arg(long)]
    pub all_history: bool,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// Days after an invitation in which the customer gets no other, from any survey.
    #[arg(long, allow_hyphen_values = true)]
    pub global_cooldown_days: Option<i64>,
    /// The rolling window of --max-in-window, in days.
    #[arg(long, allow_hyphen_values = true)]
    pub window_days: Option<i64>,
    /// The most invitations a customer gets within any window.
    #[arg(long, allow_hyphen_values = true)]
    pub max_in_window: Option<i64>,
    /// Reminders to customers who have not answered.
    #[arg(long, allow_hyphen_values = true)]
    pub reminders: Option<i64>,
    /// Days between the invitation and a reminder, and between reminders.
    #[arg(long, allow_hyphen_values = true)]
    pub reminder_gap_days: Option<i64>,
    /// Days an invitation can be answered.
    #[arg(long, allow_hyphen_values = true)]
    pub expiry_days: Option<i64>,
    /// The share of customers never asked, to measure what being asked does (0–0.5).
    #[arg(long, allow_hyphen_values = true)]
    pub holdout_share: Option<f64>,
}

#[derive(Debug, Args)]
pub struct LinksArgs {
    /// Where to write the CSV (customer_id, survey, link, expires).
    #[arg(long)]
    pub out: std::path::PathBuf,
    /// The server's public address the links start with.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub base_url: String,
}

#[derive(Debug, Subcommand)]
pub enum InitiativeCommand {
    /// Record an initiative: what changed, where (touchpoints and units such as
    /// airport=CPH), from when, at what cost. Checked against the data; audited.
    Add(InitiativeAddArgs),
    /// List the initiatives.
    List,
    /// Show one initiative.
    Show { name: String },
    /// Change an initiative's fields (the others stay); audited.
    Update(InitiativeUpdateArgs),
    /// Measure an initiative's effect (NAME), or an effect on any unit × period panel
    /// (--sql): the estimator chosen from the design (or asked for), the effect with its
    /// 95% interval, the checks, or why no claim can be made.
    Measure(MeasureArgs),
}

#[derive(Debug, Args)]
pub struct WhatIfArgs {
    /// The share of bad experiences (failures, waits over the service level) the fix
    /// removes, a percentage, e.g. 30%.
    #[arg(long, value_name = "PERCENT")]
    pub reduce_failures: String,
    /// The touchpoints to price (repeatable or comma-separated); every touchpoint when none.
    #[arg(long = "touchpoint", value_delimiter = ',')]
    pub touchpoints: Vec<String>,
    /// What the fix at a touchpoint costs a year, TOUCHPOINT=AMOUNT (repeatable): the
    /// fixes with a cost are also ranked by money kept per unit of cost.
    #[arg(long = "cost", value_name = "TOUCHPOINT=AMOUNT")]
    pub costs: Vec<String>,
    /// Days after a trip within which a purchase counts as staying.
    #[arg(long, default_value_t = 180)]
    pub window_days: u32,
}

#[derive(Debug, Args)]
pub struct InitiativeAddArgs {
    /// The initiative's name (unique, ignoring case).
    #[arg(long)]
    pub name: String,
    /// Who is responsible.
    #[arg(long)]
    pub owner: Option<String>,
    /// The units it covers: a column of the interactions and its values, e.g. airport=CPH.
    #[arg(long)]
    pub scope: String,
    /// The touchpoints it covers (all when none), e.g. bag_drop,baggage_reclaim.
    #[arg(long, value_delimiter = ',')]
    pub touchpoints: Vec<String>,
    /// The first day it applies (YYYY-MM-DD).
    #[arg(long)]
    pub start: String,
    /// A unit's own first day, for a staggered roll-out: UNIT=YYYY-MM-DD (repeatable).
    #[arg(long = "start-for")]
    pub start_for: Vec<String>,
    #[command(flatten)]
    pub fields: InitiativeFields,
}

/// The fields `add` and `update` share.
#[derive(Debug, Args)]
pub struct InitiativeFields {
    /// The last day it applies (YYYY-MM-DD).
    #[arg(long)]
    pub end: Option<String>,
    /// The one-off cost, in the data's currency.
    #[arg(long, allow_hyphen_values = true)]
    pub one_off_cost: Option<f64>,
    /// The running cost a year, in the data's currency.
    #[arg(long, allow_hyphen_values = true)]
    pub running_cost: Option<f64>,
    /// The relative change expected in the outcome (−0.3: 30% less).
    #[arg(long, allow_hyphen_values = true)]
    pub expected_effect: Option<f64>,
    #[arg(long, ignore_case = true, value_parser = named(Status::ALL, Status::name))]
    pub status: Option<Status>,
    #[arg(long)]
    pub notes: Option<String>,
}

#[derive(Debug, Args)]
pub struct InitiativeUpdateArgs {
    /// The initiative to change.
    pub initiative: String,
    /// A new name.
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub owner: Option<String>,
    #[command(flatten)]
    pub fields: InitiativeFields,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("panel").required(true).args(["name", "sql"]))]
pub struct MeasureArgs {
    /// A recorded initiative: its units by week from the interactions.
    pub name: Option<String>,
    /// With NAME: what the effect is measured on at its touchpoints.
    #[arg(long, value_enum, ignore_case = true, default_value_t = InitiativeOutcome::FailureRate, requires = "name")]
    pub outcome: InitiativeOutcome,
    /// A query with the columns unit, period (a whole number or a date), outcome and
    /// treated_from (the unit's first treated period, NULL if never); files can be named
    /// by path: SELECT * FROM 'panel.csv'.
    #[arg(long, conflicts_with = "name")]
    pub sql: Option<String>,
    /// How the effect is estimated (auto: chosen from the design, with the reason).
    #[arg(long, value_enum, ignore_case = true, default_value_t = EstimatorChoice::Auto)]
    pub estimator: EstimatorChoice,
    /// The units were assigned to the change at random (a pilot): compared with CUPED.
    #[arg(long)]
    pub randomized: bool,
    /// The horizon of a recorded initiative's business case (on the failure rate), years.
    #[arg(long, default_value_t = 3.0, requires = "name")]
    pub years: f64,
}

#[derive(Debug, Args)]
pub struct LinkArgs {
    /// Group by a column of responses or customers, e.g. segment.
    #[arg(long)]
    pub by: Option<String>,
    /// How defection is defined (auto is what the pages show; window uses --window-days;
    /// palive uses --threshold and needs `cxray loyalty predict` first).
    #[arg(long, value_enum, default_value_t = Defection::Auto)]
    pub defection: Defection,
    /// With --defection palive: P(alive) below this counts as defected.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
    /// Days after an answer within which a purchase counts as staying.
    #[arg(long, default_value_t = 180)]
    pub window_days: u32,
    /// The stated measure.
    #[arg(long, value_enum, default_value_t = Metric::Nps)]
    pub instrument: Metric,
    /// The loyalty model behind the behavioural prediction.
    #[arg(long, value_enum, default_value_t = TransactionModel::BgNbd)]
    pub model: TransactionModel,
    #[command(flatten)]
    pub as_of: AsOfArgs,
}

#[derive(Debug, Args)]
pub struct AsOfArgs {
    /// Read a table as of an earlier version: TABLE=VERSION (repeatable).
    #[arg(long, value_name = "TABLE=VERSION")]
    pub as_of: Vec<String>,
}

#[derive(Debug, Args)]
pub struct SliceArgs {
    /// Group by columns of responses, customers or touchpoints, or by day, week, month,
    /// quarter or year, e.g. touchpoint,month.
    #[arg(long, value_delimiter = ',')]
    pub by: Vec<String>,
    /// First day of responses, YYYY-MM-DD.
    #[arg(long)]
    pub from: Option<String>,
    /// Last day of responses, YYYY-MM-DD.
    #[arg(long)]
    pub to: Option<String>,
    /// Only responses matching this SQL predicate, e.g. "segment = 'business'".
    #[arg(long = "where", value_name = "PREDICATE")]
    pub filter: Option<String>,
    #[command(flatten)]
    pub as_of: AsOfArgs,
}

#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// The survey metric.
    #[arg(value_enum)]
    pub metric: Metric,
    #[command(flatten)]
    pub slice: SliceArgs,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The survey metric.
    #[arg(value_enum)]
    pub metric: Metric,
    /// SQL predicate selecting group a.
    #[arg(long)]
    pub a: String,
    /// SQL predicate selecting group b.
    #[arg(long)]
    pub b: String,
    #[command(flatten)]
    pub slice: SliceArgs,
}

#[derive(Debug, Subcommand)]
pub enum LoyaltyCommand {
    /// Fit a model and print its parameters, standard errors and diagnostics.
    Fit(FitArgs),
    /// Fit, then write every customer's P(alive), expected transactions and CLV to
    /// the customer_value table; print the customer equity.
    Predict(PredictArgs),
    /// Fit on the calibration period and compare predictions with the holdout period.
    Validate(ValidateArgs),
    /// Retention curves by acquisition cohort.
    Retention(RetentionArgs),
}

#[derive(Debug, Args)]
pub struct WindowArgs {
    /// Time unit.
    #[arg(long, value_enum, default_value_t = Unit::Week)]
    pub unit: Unit,
    /// Last day of the calibration period, YYYY-MM-DD [default: the last purchase day].
    #[arg(long)]
    pub calibration_end: Option<String>,
    /// L2 penalty on the parameters (0 for plain maximum likelihood).
    #[arg(long, default_value_t = 0.0)]
    pub penalty: f64,
}

#[derive(Debug, Args)]
pub struct FitArgs {
    /// The model to fit.
    #[arg(long, value_enum)]
    pub model: AnyModel,
    #[command(flatten)]
    pub window: WindowArgs,
    /// For sbg: cohort survival counts, e.g. 1000,631,468,382 (instead of the transactions).
    #[arg(long, value_delimiter = ',')]
    pub survival: Option<Vec<f64>>,
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The transaction model (spend is always Gamma-Gamma).
    #[arg(long, value_enum, default_value_t = TransactionModel::BgNbd)]
    pub model: TransactionModel,
    #[command(flatten)]
    pub window: WindowArgs,
    /// Horizon of expected transactions and CLV, in time units.
    #[arg(long, default_value_t = 52)]
    pub horizon: u32,
    /// Annual discount rate for CLV (0.1 is 10% a year).
    #[arg(long, default_value_t = 0.1)]
    pub discount_rate: f64,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Models to compare, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "bgnbd,mbgnbd,pnbd"
    )]
    pub model: Vec<TransactionModel>,
    #[command(flatten)]
    pub window: WindowArgs,
    /// Last day of the holdout period, YYYY-MM-DD.
    #[arg(long)]
    pub holdout_end: String,
}

#[derive(Debug, Args)]
pub struct RetentionArgs {
    /// Cohorts by month, quarter or year of the first purchase.
    #[arg(long, value_enum, default_value_t = CohortLength::Month)]
    pub by: CohortLength,
    /// Treat every purchase as a renewal: retained means a later purchase exists.
    #[arg(long)]
    pub contractual: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The table.
    #[arg(value_parser = named(&Table::ALL, Table::name))]
    pub table: Table,
    /// The files (CSV, TSV, whitespace-separated text, Parquet, NDJSON; gzip allowed).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The format, if the file names don't tell.
    #[arg(long, value_enum)]
    pub format: Option<FileFormat>,
    /// The first row is a header (detected by default).
    #[arg(long, conflicts_with = "no_header")]
    pub header: bool,
    /// The first row is data.
    #[arg(long)]
    pub no_header: bool,
    /// Map table columns to source columns: field=source,... where source is a header
    /// name or a 1-based position.
    #[arg(long, value_name = "FIELD=SOURCE,...")]
    pub map: Option<String>,
    /// strftime format of dates and times (ISO 8601 by default), e.g. %Y%m%d.
    #[arg(long)]
    pub date_format: Option<String>,
    /// IANA time zone of local dates and times (UTC by default), e.g. Europe/Berlin.
    #[arg(long)]
    pub timezone: Option<String>,
    /// Set aside up to N bad rows in a rejects file instead of failing.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub skip_bad_rows: u64,
    /// Rows of customers erased with `forget`: refuse (the import fails) or accept
    /// [default: the config file's `erased_customers`, or refuse].
    #[arg(
        long,
        value_name = "RULE",
        ignore_case = true,
        value_parser = named(ErasedRows::ALL, ErasedRows::name)
    )]
    pub erased_customers: Option<ErasedRows>,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The query, e.g. "SELECT count(*) FROM transactions".
    pub query: String,
    /// Print CSV.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    #[command(flatten)]
    pub as_of: AsOfArgs,
}

#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// The scheduler: plans the queries clients send and hands their tasks to executors.
    Scheduler(SchedulerArgs),
    /// An executor: runs tasks, reading the tables' files from the data folder's storage
    /// with the credentials of its environment (AWS_*, GOOGLE_*, AZURE_*).
    Executor(ExecutorArgs),
}

#[derive(Debug, Args)]
pub struct SchedulerArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:50050")]
    pub bind: SocketAddr,
    /// The host name executors and clients reach the scheduler by [default: the bind
    /// address].
    #[arg(long, value_name = "HOST")]
    pub external_host: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExecutorArgs {
    /// The scheduler's host and port.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:50050")]
    pub scheduler: String,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// The port that serves the results of its tasks (Arrow Flight).
    #[arg(long, default_value_t = 50051)]
    pub port: u16,
    /// The port of its gRPC service.
    #[arg(long, default_value_t = 50052)]
    pub grpc_port: u16,
    /// The host name the scheduler and other executors reach it by [default: the bind
    /// address].
    #[arg(long, value_name = "HOST")]
    pub external_host: Option<String>,
    /// Tasks run at once [default: the machine's cores].
    #[arg(long, value_name = "N")]
    pub cores: Option<usize>,
    /// Where it keeps the intermediate results of running queries [default: a new
    /// temporary folder].
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: $CXRAY_BIND, the config file's `bind`, or 127.0.0.1:8080].
    #[arg(long)]
    pub bind: Option<SocketAddr>,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// Most attribute columns a table may get from ingestion [default: the config file's
    /// `max_attributes`, or 200].
    #[arg(long)]
    pub max_attributes: Option<usize>,
    /// Most keys one ingested row may have [default: the config file's
    /// `max_keys_per_row`, or 250].
    #[arg(long)]
    pub max_keys_per_row: Option<usize>,
    /// Ingested rows of customers erased with `forget`: refuse (the batch is refused) or
    /// accept [default: the config file's `erased_customers`, or refuse].
    #[arg(
        long,
        value_name = "RULE",
        ignore_case = true,
        value_parser = named(ErasedRows::ALL, ErasedRows::name)
    )]
    pub erased_customers: Option<ErasedRows>,
    /// Fewest customers a filtered view may describe for owners and partners; smaller
    /// views are withheld from them [default: the config file's `min_group_size`, or 20].
    #[arg(long, value_name = "N")]
    pub min_group_size: Option<u64>,
    /// Seconds in which an answer through a personal survey link may still be changed
    /// before it is committed into responses [default: the config file's
    /// `survey_grace_seconds`, or 900].
    #[arg(long, value_name = "SECONDS")]
    pub survey_grace_seconds: Option<u64>,
    /// The URL at which other servers and clients reach this one, announced when it leads
    /// several servers sharing a PostgreSQL database [default: $CXRAY_ADVERTISE_URL, the
    /// config file's `advertise_url`, or http:// and the address it listens on].
    #[arg(long, value_name = "URL")]
    pub advertise: Option<String>,
    /// Seconds between a follower's tries for the lease of several servers (a leader that
    /// dies is replaced within about one and a half of these) [default: the config file's
    /// `lease_seconds`, or 5].
    #[arg(long, value_name = "SECONDS")]
    pub lease_seconds: Option<f64>,
}

/// How the server's background analyses run.
#[derive(Debug, Args)]
pub struct AnalysisArgs {
    /// Bootstrap resamples of the drivers page.
    #[arg(long, default_value_t = 200)]
    pub resamples: usize,
    /// Seconds between looks for new data to analyse.
    #[arg(long, default_value_t = 30)]
    pub refresh_seconds: u64,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many customers to simulate.
    #[arg(long, default_value_t = 50_000)]
    pub customers: u64,
    /// The random seed: the same seed gives the same world.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// A world described in TOML (see docs/world.md); the built-in airline by default.
    #[arg(long, value_name = "FILE")]
    pub world: Option<PathBuf>,
    /// Build the world, print its summary, and exit without serving.
    #[arg(long)]
    pub no_serve: bool,
    /// Replace a demo world already in the data folder.
    #[arg(long)]
    pub rebuild: bool,
    /// Address to listen on.
    #[arg(long)]
    pub bind: Option<SocketAddr>,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// Most attribute columns a table may get from ingestion [default: the config file's
    /// `max_attributes`, or 200].
    #[arg(long)]
    pub max_attributes: Option<usize>,
    /// Most keys one ingested row may have [default: the config file's
    /// `max_keys_per_row`, or 250].
    #[arg(long)]
    pub max_keys_per_row: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum TextCommand {
    /// Sentiment of the comments (VADER, English comments) overall and per group, with
    /// 95% intervals.
    Sentiment(TextSentimentArgs),
    /// Terms that distinguish two groups' comments (log-odds ratios with an informative
    /// Dirichlet prior, z-scores).
    Terms(TextTermsArgs),
    /// The topics of a taxonomy file in the comments — share of comments and NPS with
    /// and without each — and topics discovered among the comments it misses.
    Topics(TextTopicsArgs),
}

#[derive(Debug, Args)]
pub struct TextTopicsArgs {
    /// The taxonomy: a TOML file of [[topic]] tables with a name ("baggage > delayed")
    /// and terms, shared (terms = […]) or per language (en, de, da, sv, es, fr, nl).
    /// Without it, the starter taxonomy is printed.
    #[arg(long, value_name = "FILE")]
    pub taxonomy: Option<std::path::PathBuf>,
    /// Discover this many topics among the comments the taxonomy misses (0: none).
    #[arg(long, default_value_t = 8)]
    pub discover: usize,
    /// A query with a `comment` column and, for NPS, an `nps` column (0–10), for the
    /// change in share a `period` column (its last value against the one before); files
    /// can be named by path: SELECT comment, nps, period FROM 'comments.csv'.
    #[arg(long)]
    pub sql: Option<String>,
    /// With each topic's leaving figures: the odds ratio of leaving after a trip whose
    /// comment mentions it (the dropout model, with its controls), the touchpoints and
    /// owners it concerns, and the customer value at risk.
    #[arg(long, conflicts_with = "sql")]
    pub leaving: bool,
}

#[derive(Debug, Args)]
pub struct TextSentimentArgs {
    /// Group by a column of the responses or customers, a touchpoint's journey, stage,
    /// owner or channel, or a time bucket (day, week, month, quarter, year).
    #[arg(long, conflicts_with = "sql")]
    pub by: Option<String>,
    /// A query with a `comment` column and, to group, a `group` column; files can be
    /// named by path: SELECT "group", comment FROM 'comments.csv'.
    #[arg(long)]
    pub sql: Option<String>,
}

#[derive(Debug, Args)]
pub struct TextTermsArgs {
    /// The groups of respondents compared.
    #[arg(long, value_enum, default_value_t = TermGroups::Promoters)]
    pub groups: TermGroups,
    /// Compare the comments about this touchpoint with the rest.
    #[arg(long, conflicts_with_all = ["groups", "sql"])]
    pub touchpoint: Option<String>,
    /// A query with a `group` column of two values and a `comment` column; the first
    /// value in sort order is group A.
    #[arg(long, conflicts_with = "groups")]
    pub sql: Option<String>,
    /// Days after an answer in which a purchase counts as staying.
    #[arg(long, default_value_t = 180)]
    pub window_days: u32,
    /// Terms shown for each group.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// Fewest times a term must occur in both groups together.
    #[arg(long, default_value_t = 5)]
    pub min_count: u64,
}

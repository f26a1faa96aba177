//! `cxray demo`: build the demo world, then serve it.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::net::SocketAddr;

use anyhow::Context;
use cxray_analysis::groups::Groups;
use cxray_analysis::journey;
use cxray_analysis::settings::ProductSettings;
use cxray_core::access::Role;
use cxray_core::world::{Spec, Truth, World};
use cxray_store::accounts::{NewUser, generate_password};
use cxray_store::sql::Sql;
use cxray_store::{DataFolder, ops::OpsDb, tables};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::args::DemoArgs;
use crate::config::Config;
use crate::output::count;

#[derive(Serialize)]
struct Built<'a> {
    data: String,
    reused: bool,
    seconds: f64,
    truth: &'a Truth,
    sign_in: SignIn,
}

/// Where to sign in, and the demo's accounts.
#[derive(Serialize)]
struct SignIn {
    url: String,
    accounts: Vec<Account>,
    /// A survey's anonymous link: the survey page, answered without signing in.
    survey: Option<String>,
}

/// One of the demo's accounts.
#[derive(Serialize)]
struct Account {
    role: Role,
    email: String,
    /// The owner whose touchpoints an owner or partner sees.
    owner: Option<String>,
    /// Generated when the folder had no users yet; shown once.
    password: Option<String>,
}

/// The demo's roles, each with its account's address.
const DEMO_ROLES: [(Role, &str); 4] = [
    (Role::Admin, "admin@demo.invalid"),
    (Role::Executive, "executive@demo.invalid"),
    (Role::Owner, "owner@demo.invalid"),
    (Role::Partner, "partner@demo.invalid"),
];

/// Builds (or reuses) the demo world, prints its summary, and serves it unless `--no-serve`.
pub async fn run(config: &Config, args: DemoArgs, json: bool) -> anyhow::Result<()> {
    let world = match &args.world {
        None => World::airline(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("world file {}", path.display()))?;
            World::from_toml(&text).map_err(|e| super::usage(format!("{}: {e}", path.display())))?
        }
    };
    let spec = world.spec().clone();
    let started = std::time::Instant::now();
    let (folder, _) = super::create_folder(config)?;
    let existing = read_truth(&folder)?;
    let reuse = existing.is_some() && !args.rebuild && args.world.is_none();
    let truth = if reuse {
        existing.expect("checked")
    } else {
        prepare(&folder, existing.is_some()).await?;
        build(&folder, world, &args).await?
    };
    let bind = args.bind.unwrap_or(config.bind);
    let built = Built {
        data: folder.location(),
        reused: reuse,
        seconds: started.elapsed().as_secs_f64(),
        truth: &truth,
        sign_in: sign_in(&folder, bind, &spec)?,
    };
    if json {
        crate::output::json(&built)?;
    } else {
        print(&built);
    }
    if args.no_serve {
        return Ok(());
    }
    let options = super::serve::options(config, &args.analysis, config.limits);
    super::serve::serve(folder, bind, options).await
}

/// The sign-in: on a folder without users, an admin, an executive, an owner (the world's
/// team with the most touchpoints) and a partner (likewise, when the world has them) with
/// generated passwords;
/// otherwise the demo accounts that exist, without passwords.
fn sign_in(folder: &DataFolder, bind: SocketAddr, world: &Spec) -> anyhow::Result<SignIn> {
    let ops = folder.ops_db()?;
    let users = ops.users()?;
    let accounts = if users.is_empty() {
        DEMO_ROLES
            .iter()
            .filter_map(|&(role, email)| add_account(&ops, role, email, world).transpose())
            .collect::<anyhow::Result<_>>()?
    } else {
        users
            .into_iter()
            .filter(|u| DEMO_ROLES.iter().any(|(_, email)| *email == u.email))
            .map(|u| Account {
                role: u.role,
                email: u.email,
                owner: u.owner_id,
                password: None,
            })
            .collect()
    };
    let survey = ops.surveys()?.into_iter().next();
    Ok(SignIn {
        url: format!("http://{bind}/login"),
        accounts,
        survey: survey.map(|s| format!("http://{bind}/s/open/{}", s.public_id)),
    })
}

/// Adds the demo account for `role` with a generated password; none for an owner or a
/// partner when the world has no owner of that kind.
fn add_account(
    ops: &OpsDb,
    role: Role,
    email: &str,
    world: &Spec,
) -> anyhow::Result<Option<Account>> {
    let owner = match role {
        Role::Owner => busiest(world, "team"),
        Role::Partner => busiest(world, "partner"),
        _ => None,
    };
    if role.needs_owner() && owner.is_none() {
        return Ok(None);
    }
    let password = generate_password()?;
    let name = format!("Demo {role}");
    let user = NewUser {
        email,
        name: &name,
        role,
        owner_id: owner.as_deref(),
        password: &password,
    };
    ops.add_user(&super::actor(), &user)?;
    Ok(Some(Account {
        role,
        email: email.into(),
        owner,
        password: Some(password),
    }))
}

/// The world's owner of `kind` with the most touchpoints whose answers carry comments
/// (the survey's CSAT touchpoints), then with the most touchpoints (the first of those
/// tied): so the account sees comments about its own touchpoints.
fn busiest(world: &Spec, kind: &str) -> Option<String> {
    let csat = &world.survey.csat_touchpoints;
    let counts = |id: &str| {
        let theirs = world.touchpoints.iter().filter(|t| t.owner == id);
        let asked = theirs.clone().filter(|t| csat.contains(&t.id)).count();
        (asked, theirs.count())
    };
    world
        .owners
        .iter()
        .filter(|o| o.kind == kind)
        .rev()
        .max_by_key(|o| counts(&o.id))
        .map(|o| o.id.clone())
}

fn read_truth(folder: &DataFolder) -> anyhow::Result<Option<Truth>> {
    let path = folder.truth_path();
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    Ok(Some(serde_json::from_str(&text).with_context(|| {
        format!("{}: not a demo world's truth", path.display())
    })?))
}

/// Makes the folder ready for a new world: replaces an old demo world's tables, refuses
/// a folder that holds other data.
async fn prepare(folder: &DataFolder, old_demo: bool) -> anyhow::Result<()> {
    if old_demo {
        folder.local_only("replacing a demo world")?;
        let dir = folder.root().join("tables");
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
        std::fs::remove_file(folder.truth_path())?;
    }
    tables::create_all(folder).await?;
    for table in cxray_core::domain::Table::ALL {
        if tables::info(folder, table).await?.rows > 0 {
            return Err(super::usage(format!(
                "{} already holds imported data; build the demo world in another folder (--data DIR)",
                folder.location()
            )));
        }
    }
    folder.ops_db()?;
    Ok(())
}

async fn build(folder: &DataFolder, world: World, args: &DemoArgs) -> anyhow::Result<Truth> {
    let bar = ProgressBar::with_draw_target(Some(args.customers), ProgressDrawTarget::stderr());
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template(
            "simulating [{bar:30}] {human_pos}/{human_len} customers ({per_sec}, {eta})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let progress = bar.clone();
    // The follow-up rules first: the simulation draws their arms with their ids.
    let ops = folder.ops_db()?;
    let rules = cxray_analysis::cases::demo::register(&ops, world.spec(), args.seed)?;
    let ids = Some(rules.iter().map(|r| r.id).collect());
    let (customers, seed) = (args.customers, args.seed);
    let built = cxray_analysis::world::build_with_rules(folder, world, customers, seed, ids, {
        move |n| progress.set_position(n)
    })
    .await;
    bar.finish_and_clear();
    let (truth, cases) = built?;
    let spinner =
        ProgressBar::new_spinner().with_message("valuing the customers (MBG/NBD, Gamma-Gamma)");
    if !std::io::stderr().is_terminal() {
        spinner.set_draw_target(ProgressDrawTarget::hidden());
    }
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let value = cxray_analysis::world::value(folder).await;
    spinner.set_message("preparing the journey's trips");
    let settings = ProductSettings::default();
    let trips = match value {
        Ok(_) => journey::prepare(folder, &settings).await,
        Err(e) => Err(e),
    };
    if trips.is_ok() {
        // Not needed to serve (the server computes them, or views take the general path).
        spinner.set_message("preparing the partial totals of customer groups");
        if let Err(e) = Groups::prepare(folder, &settings).await {
            tracing::warn!("partial totals of customer groups not prepared: {e}");
        }
    }
    spinner.finish_and_clear();
    trips?;
    for (metric, period, target) in cxray_analysis::world::targets(folder).await? {
        ops.set_target("demo", metric, &period, target)?;
    }
    let end = chrono::NaiveDate::parse_from_str(&truth.observation.end, "%Y-%m-%d")
        .with_context(|| format!("the world's end {}", truth.observation.end))?;
    let end = end
        .succ_opt()
        .unwrap_or(end)
        .and_time(chrono::NaiveTime::MIN)
        .and_utc();
    let sql = Sql::open(folder, &BTreeMap::new()).await?;
    cxray_analysis::surveys::demo::plant(&sql, &ops, end).await?;
    cxray_analysis::cases::demo::record(&sql, &ops, &rules, &cases).await?;
    Ok(truth)
}

fn print(b: &Built) {
    let t = b.truth;
    let verb = if b.reused {
        "reused the demo world in"
    } else {
        "built the demo world in"
    };
    println!("{verb} {} ({:.1} s)", b.data, b.seconds);
    println!(
        "  {}: {} customers, {} transactions, {} interactions, {} survey responses, seed {}",
        t.world,
        count(t.counts.customers),
        count(t.counts.transactions),
        count(t.counts.interactions),
        count(t.counts.responses),
        t.seed
    );
    println!(
        "  observed {} … {}; the truth behind it is in {}/truth.json",
        t.observation.start, t.observation.end, b.data
    );
    let s = &b.sign_in;
    println!("sign in at {}", s.url);
    for a in &s.accounts {
        let owner = a
            .owner
            .as_deref()
            .map_or(String::new(), |o| format!(" of {o}"));
        match &a.password {
            Some(p) => println!("  {}{owner}: {} with password {p}", a.role, a.email),
            None => println!(
                "  {}{owner}: {} (a new password: cxray user password {})",
                a.role, a.email, a.email
            ),
        }
    }
    if let Some(url) = &s.survey {
        println!("answer a survey as a customer would (no sign-in): {url}");
    }
}

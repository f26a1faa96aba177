//! `cxray demo`: build the demo world, then serve it.

use std::io::IsTerminal;
use std::net::SocketAddr;

use anyhow::Context;
use cxray_core::access::Role;
use cxray_core::world::{Truth, World};
use cxray_store::accounts::{NewUser, generate_password};
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

/// The demo's admin account.
const DEMO_ADMIN: &str = "admin@demo.invalid";

/// Where and as whom to sign in.
#[derive(Serialize)]
struct SignIn {
    url: String,
    email: &'static str,
    /// Generated when the folder had no users yet; shown once.
    password: Option<String>,
}

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
    let started = std::time::Instant::now();
    let (folder, _) = DataFolder::create(&config.data)?;
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
        data: folder.root().display().to_string(),
        reused: reuse,
        seconds: started.elapsed().as_secs_f64(),
        truth: &truth,
        sign_in: sign_in(&folder, bind)?,
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

/// The sign-in: an admin with a generated password when the folder has no users yet.
fn sign_in(folder: &DataFolder, bind: SocketAddr) -> anyhow::Result<SignIn> {
    let ops = OpsDb::open(&folder.ops_db_path())?;
    let password = match ops.users()?.is_empty() {
        true => {
            let password = generate_password()?;
            let admin = NewUser {
                email: DEMO_ADMIN,
                name: "Demo admin",
                role: Role::Admin,
                owner_id: None,
                password: &password,
            };
            ops.add_user(&super::actor(), &admin)?;
            Some(password)
        }
        false => None,
    };
    Ok(SignIn {
        url: format!("http://{bind}/login"),
        email: DEMO_ADMIN,
        password,
    })
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
        let dir = folder.root().join("tables");
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
        std::fs::remove_file(folder.truth_path())?;
    }
    tables::create_all(folder).await?;
    for table in cxray_core::domain::Table::ALL {
        if tables::info(folder, table).await?.rows > 0 {
            return Err(super::usage(format!(
                "{} already holds imported data; build the demo world in another folder (--data DIR)",
                folder.root().display()
            )));
        }
    }
    OpsDb::open(&folder.ops_db_path())?;
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
    let truth = cxray_analysis::world::build(folder, world, args.customers, args.seed, move |n| {
        progress.set_position(n)
    })
    .await;
    bar.finish_and_clear();
    let truth = truth?;
    let spinner =
        ProgressBar::new_spinner().with_message("valuing the customers (MBG/NBD, Gamma-Gamma)");
    if !std::io::stderr().is_terminal() {
        spinner.set_draw_target(ProgressDrawTarget::hidden());
    }
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let value = cxray_analysis::world::value(folder).await;
    spinner.finish_and_clear();
    value?;
    let ops = OpsDb::open(&folder.ops_db_path())?;
    for (metric, period, target) in cxray_analysis::world::targets(folder).await? {
        ops.set_target("demo", metric, &period, target)?;
    }
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
    match &s.password {
        Some(p) => println!("sign in at {} as {} with password {p}", s.url, s.email),
        None => println!(
            "sign in at {} (a new password for {}: cxray user password {})",
            s.url, s.email, s.email
        ),
    }
}

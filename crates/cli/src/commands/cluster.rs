//! `cxray cluster scheduler|executor`: the processes of an Apache DataFusion Ballista
//! cluster, embedded (builds with the `cluster` feature).

use crate::args::ClusterCommand;

#[cfg(feature = "cluster")]
pub async fn run(command: ClusterCommand) -> anyhow::Result<()> {
    use cxray_store::cluster::process;
    use cxray_store::engine::Engine;
    match command {
        ClusterCommand::Scheduler(args) => {
            let host = args
                .external_host
                .unwrap_or_else(|| args.bind.ip().to_string());
            eprintln!(
                "cxray cluster scheduler: listening on {} (engine ballista://{host}:{})",
                args.bind,
                args.bind.port()
            );
            Ok(process::scheduler(args.bind, host).await?)
        }
        ClusterCommand::Executor(args) => {
            let Engine::Cluster { host, port } =
                Engine::parse("--scheduler", &format!("ballista://{}", args.scheduler))
                    .map_err(super::usage)?
            else {
                unreachable!("a ballista:// address is a cluster's");
            };
            let work_dir = match args.work_dir {
                Some(dir) => dir,
                None => std::env::temp_dir().join(format!("cxray-executor-{}", args.port)),
            };
            std::fs::create_dir_all(&work_dir)
                .map_err(|e| super::usage(format!("--work-dir {}: {e}", work_dir.display())))?;
            let cores = args
                .cores
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
            eprintln!(
                "cxray cluster executor: data port {}, gRPC port {}, {cores} tasks at once, for the scheduler at {host}:{port}",
                args.port, args.grpc_port
            );
            Ok(process::executor(process::Executor {
                scheduler: (host, port),
                bind_host: args.bind.to_string(),
                port: args.port,
                grpc_port: args.grpc_port,
                external_host: args.external_host,
                cores,
                work_dir,
            })
            .await?)
        }
    }
}

#[cfg(not(feature = "cluster"))]
pub async fn run(_command: ClusterCommand) -> anyhow::Result<()> {
    Err(super::usage(
        "this cxray was built without the cluster feature (cargo build --release --features cxray/cluster)",
    ))
}

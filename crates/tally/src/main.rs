//! The `tally` command: parse the command line, start telemetry, then serve, migrate, manage
//! keys, back up or print the OpenAPI documents. Everything else lives in the library half of this crate.

use clap::Parser;
use tally::cli::{Cli, Command, DashboardCommand, KeysCommand};

/// mimalloc: the request path allocates many small, short-lived buffers (JSON, SQL arguments,
/// rows), where it costs less CPU than the system allocator (measured with `tally-bench`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tally::telemetry::init(cli.log_format);
    let config = cli.config()?;
    match cli.command {
        Command::Serve(_) => {
            let server = tally::Server::build(config).await?;
            server.run_until_stopped().await
        }
        Command::Migrate => {
            tally::storage::open(&config.database_url).await?;
            println!("Migrations applied to {}", config.database_url_redacted());
            Ok(())
        }
        Command::Backup(args) => {
            tally::backup::run(&config.database_url, &args)?;
            println!(
                "Backup of {} written to {}",
                config.database_url_redacted(),
                args.to.display()
            );
            Ok(())
        }
        Command::Openapi(args) => tally::openapi::run(&args),
        Command::Keys(KeysCommand::Create { mode, name }) => {
            let app = tally::Server::app_for(&config).await?;
            let secret = app.create_key_for_mode(mode.into(), &name).await?;
            println!("{secret}");
            Ok(())
        }
        Command::Dashboard(DashboardCommand::Credential { stdin }) => {
            let chosen = if stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                Some(line.trim_end_matches(['\r', '\n']).to_owned())
            } else {
                None
            };
            let app = tally::Server::app_for(&config).await?;
            let credential = app.set_dashboard_credential(chosen.clone()).await?;
            if chosen.is_some() {
                println!("Dashboard credential set; every dashboard session was signed out.");
            } else {
                println!("{credential}");
            }
            Ok(())
        }
    }
}

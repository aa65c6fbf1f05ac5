//! `verity`: the command-line entry point.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use verity::config::{Config, Overrides};
use verity::server::{describe_credentials, describe_first_start, open_store, Server};
use verity_domain::account::ApplicationMetadata;
use verity_domain::ids::ApplicationId;
use verity_domain::session::Environment;

#[derive(Parser)]
#[command(
    name = "verity",
    version,
    about = "Self-hosted identity verification speaking the Didit API"
)]
struct Cli {
    /// Configuration file (default: ./verity.toml when present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Directory for the embedded database, media and development master key.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// `sqlite://PATH` or `postgres://…`.
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (creates and prints credentials on the first start).
    Serve {
        /// Address to bind, e.g. 127.0.0.1:8000 (port 0 picks a free port).
        #[arg(long)]
        listen: Option<String>,
        /// Base URL used in session links.
        #[arg(long)]
        public_url: Option<String>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage applications.
    App {
        #[command(subcommand)]
        command: AppCommand,
    },
    /// Manage API keys.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Sanctions / PEP datasets for AML screening.
    Aml {
        #[command(subcommand)]
        command: AmlCommand,
    },
}

#[derive(Subcommand)]
enum AmlCommand {
    /// Import a new version of a dataset (FtM JSON lines or the OFAC SDN CSV).
    Import {
        /// The file to import.
        file: PathBuf,
        /// Dataset name, e.g. ofac_sdn or opensanctions.
        #[arg(long)]
        dataset: String,
        /// `ftm` or `ofac-sdn` (detected from the content when omitted).
        #[arg(long)]
        format: Option<String>,
        /// Version label (default: --date, else the import time).
        #[arg(long)]
        version: Option<String>,
        /// Publication date of the data, YYYY-MM-DD.
        #[arg(long)]
        date: Option<String>,
        /// Refuse the file if any row is invalid.
        #[arg(long)]
        strict: bool,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// List imported dataset versions.
    Datasets,
}

#[derive(Subcommand)]
enum AppCommand {
    /// Create an application with fresh credentials and the four workflow templates.
    Create {
        #[arg(long)]
        name: String,
        /// Create a sandbox application (never runs live checks).
        #[arg(long)]
        sandbox: bool,
    },
    /// List applications.
    List,
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Revoke the application's API keys and issue a new one.
    Rotate {
        #[arg(long = "app")]
        application: String,
    },
}

#[tokio::main]
async fn main() {
    if let Err(error) = run().await {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let (listen, public_url) = match &cli.command {
        Command::Serve { listen, public_url } => (listen.clone(), public_url.clone()),
        _ => (None, None),
    };
    let overrides = Overrides {
        listen,
        public_url,
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
    };
    let config = Config::load(cli.config.as_deref(), &overrides)?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.log)),
        )
        .with_writer(std::io::stderr)
        .init();

    match cli.command {
        Command::Serve { .. } => serve(config).await,
        Command::Migrate => {
            open_store(&config).await?;
            println!("database is up to date");
            Ok(())
        }
        Command::App {
            command: AppCommand::Create { name, sandbox },
        } => {
            let store = open_store(&config).await?;
            let org = match store.first_organization().await? {
                Some(org) => org,
                None => store.create_organization("Default Organization").await?,
            };
            let environment = if sandbox {
                Environment::Sandbox
            } else {
                Environment::Live
            };
            let (app, credentials) = store
                .create_application(org.id, &ApplicationMetadata::named(&name), environment)
                .await?;
            println!("Created application. These secrets are shown once:");
            print!("{}", describe_credentials(&app, &credentials));
            Ok(())
        }
        Command::App {
            command: AppCommand::List,
        } => {
            let store = open_store(&config).await?;
            println!(
                "{:<36}  {:<8}  {:>4}  {:>8}  name",
                "application id", "env", "keys", "sessions"
            );
            for row in store.list_applications().await? {
                println!(
                    "{:<36}  {:<8}  {:>4}  {:>8}  {} ({})",
                    row.application.id,
                    row.application.environment.as_str(),
                    row.active_keys,
                    row.sessions,
                    row.application.name,
                    row.organization_name
                );
            }
            Ok(())
        }
        Command::Aml {
            command:
                AmlCommand::Import {
                    file,
                    dataset,
                    format,
                    version,
                    date,
                    strict,
                    quiet,
                },
        } => {
            let store = open_store(&config).await?;
            let imported = verity::aml::import(
                &store,
                &verity::aml::ImportOptions {
                    file: &file,
                    dataset: &dataset,
                    format: format.as_deref(),
                    version: version.as_deref(),
                    date: date.as_deref(),
                    strict,
                    progress: !quiet,
                },
            )
            .await?;
            print!("{}", verity::aml::describe(&imported));
            Ok(())
        }
        Command::Aml {
            command: AmlCommand::Datasets,
        } => {
            let store = open_store(&config).await?;
            print!(
                "{}",
                verity::aml::describe_datasets(&store.aml_datasets().await?)
            );
            Ok(())
        }
        Command::Key {
            command: KeyCommand::Rotate { application },
        } => {
            let id = ApplicationId::parse(&application)
                .context("--app must be an application id (see `verity app list`)")?;
            let store = open_store(&config).await?;
            let key = store.rotate_api_key(id).await.map_err(|e| match e {
                verity_store::Error::Domain(verity_domain::Error::NotFound) => {
                    anyhow::anyhow!("no application {id}")
                }
                other => other.into(),
            })?;
            println!("Previous keys of {id} are revoked. New API key (shown once):\n{key}");
            Ok(())
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let server = Server::open(config).await?;
    let public_url = server.public_url(&listener)?;
    if let Some(first) = &server.first_start {
        println!("{}", describe_first_start(first, &public_url));
    }
    println!(
        "Verity listening on http://{} (public URL {public_url})",
        listener.local_addr()?
    );
    server.run(listener, shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: draining in-flight requests");
}

use clap::Parser;
use tracing_subscriber::EnvFilter;

use topica_server::cli::{Cli, Command};
use topica_server::commands;
use topica_server::context::{Context, StoreChoice, TrackerChoice};

fn init_logging(command: &Command) {
    // Commands print their results on stdout and log to stderr at warning level unless TOPICA_LOG
    // sets another filter. The server logs its lifecycle and requests at info level as JSON lines.
    let default_filter = if matches!(command, Command::Serve(_)) {
        "info"
    } else {
        "warn"
    };
    let filter =
        EnvFilter::try_from_env("TOPICA_LOG").unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if matches!(command, Command::Serve(_)) {
        builder.json().init();
    } else {
        builder.without_time().with_target(false).init();
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.command);

    let result = async {
        let store = StoreChoice::from_flags(cli.mongodb_uri.clone(), cli.mongodb_database.clone())?;
        let tracking = TrackerChoice::from_flags(cli.mlflow_uri.clone());
        let context = Context::open_with_choices(&cli.data_dir, &store, &tracking).await?;
        commands::run(&context, cli.format, cli.command).await
    }
    .await;

    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

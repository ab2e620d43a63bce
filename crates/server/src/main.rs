//! `unicharge`: see `unicharge --help`.

use std::io::IsTerminal;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use unicharge_server::cli::{Cli, Command, ConfigCommand};

fn main() {
    limit_malloc_arenas();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts")
        .block_on(async_main());
}

/// glibc gives every thread that allocates its own malloc arena (up to 8 per core), and each
/// keeps what a burst left in it: after a reconnect storm of 19,500 stations that was ~1 KiB per
/// idle station of RSS that was never used again (8.6–8.8 KiB per station with the default,
/// 7.5 with two arenas; docs/benchmarks.md). Two arenas are enough for a server whose hot
/// threads are one runtime and one store writer. Set before any thread starts; an operator's
/// own `MALLOC_ARENA_MAX` wins.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets a glibc allocator parameter; called before other threads.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

/// A CLI command piped into `head` should end quietly when the pipe closes, as other Unix tools
/// do, not panic on the failed print (Rust ignores SIGPIPE by default). Never for `serve`: there
/// a peer closing its socket must be an error on that socket, not the end of the server.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: resets one signal's disposition to the default; no handler is installed.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

async fn async_main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .with_target(false)
        // Colours only for a person at a terminal: a log file or a journal gets plain text.
        .with_ansi(std::io::stdout().is_terminal())
        .init();
    let cli = Cli::parse();
    if let Err(e) = run(cli).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if !matches!(cli.command, Command::Serve { .. }) {
        restore_sigpipe();
    }
    let mut settings = cli.settings()?;
    match &cli.command {
        Command::Serve { demo } => {
            settings.demo = *demo;
            serve(settings).await
        }
        Command::Station(command) => unicharge_server::cli::station(&settings, command).await,
        Command::ApiKey(command) => unicharge_server::cli::api_key(&settings, command).await,
        Command::SiteGroup(command) => unicharge_server::cli::site_group(command).await,
        Command::Account(command) => unicharge_server::cli_efc::account(command).await,
        Command::Efc(command) => unicharge_server::cli_efc::efc(command).await,
        Command::Diameter(command) => unicharge_server::cli::diameter(&settings, command).await,
        Command::Ocpi(command) => unicharge_server::cli_ocpi::ocpi(command).await,
        Command::Pki(command) => unicharge_server::cli_pki::pki(&settings, command),
        Command::Token(command) => unicharge_server::cli_pki::token(command).await,
        Command::Firmware(command) => unicharge_server::cli_firmware::firmware(command).await,
        Command::LogFiles(command) => unicharge_server::cli_firmware::log_files(command).await,
        Command::Config(ConfigCommand::Show) => {
            print!("{}", toml::to_string(&settings)?);
            Ok(())
        }
    }
}

async fn serve(settings: unicharge_server::Settings) -> anyhow::Result<()> {
    // Every station holds a file descriptor: use what the system allows, before the
    // connection limit is derived from it.
    let open_files = raise_open_file_limit();
    let server = unicharge_server::start(settings.clone()).await?;
    println!("unicharge {} is running", env!("CARGO_PKG_VERSION"));
    println!("  data directory: {}", settings.data_dir.display());
    println!(
        "  station connections: up to {} (open-file limit {open_files}; set [csms] max_connections to change)",
        server.csms.csms.guard().max_connections()
    );
    if let Some(addr) = server.ws_addr() {
        println!(
            "  OCPP 2.0.1, security profile 1:    ws://{addr}{}/{{stationId}}",
            settings.csms.path_prefix
        );
    }
    if let Some(addr) = server.wss_addr() {
        println!(
            "  OCPP 2.0.1, security profiles 2-3: wss://{addr}{}/{{stationId}}",
            settings.csms.path_prefix
        );
    }
    if let Some(addr) = server.efc_listeners.tcp_addr {
        println!("  EFC (ISO 17575-1) charge reports, TCP length-prefixed: {addr}");
    }
    if let Some(addr) = server.efc_listeners.http_addr {
        println!("  EFC (ISO 17575-1) charge reports, HTTP: POST http://{addr}/efc/adu");
    }
    if let Some(addr) = server.http_addr {
        println!("  web UI: http://{addr}/   (log in with an API key)");
        println!("  operator API: http://{addr}/api/v1   (Swagger UI: http://{addr}/api/v1/docs)");
        println!("  metrics: http://{addr}/metrics   health: http://{addr}/health");
    }
    if let Some(o) = &server.ocpi {
        println!(
            "  OCPI 2.3.0 / 2.2.1 (CPO): {}   (add a partner and get its token A: \
             POST /api/v1/ocpi/partners)",
            o.versions_url()
        );
    }
    if let Some(d) = &server.diameter {
        println!(
            "  Diameter Rf CDF: {} (Origin-Host {}, Origin-Realm {})",
            d.addr, settings.diameter.origin_host, settings.diameter.origin_realm
        );
        if let Some(addr) = d.tls_addr {
            println!(
                "  Diameter Rf CDF over TLS: {addr}{}",
                if settings.diameter.tls_require_client_certificate {
                    " (client certificate required)"
                } else {
                    ""
                }
            );
        }
    }
    if let Some(key) = &server.initial_admin_key {
        println!("  admin API key (shown once, only its hash is stored): {key}");
        println!(
            "    use it as `Authorization: Bearer {key}`; more keys: `unicharge api-key create`"
        );
    }
    if let Some(generated) = &server.generated_tls {
        let p = &generated.paths;
        println!(
            "  TLS material {} (configure [csms.tls] to use your own):",
            if generated.created_now {
                "generated now"
            } else {
                "generated earlier"
            }
        );
        println!(
            "    local CA (install on stations): {}",
            p.ca_cert.display()
        );
        println!(
            "    RSA server certificate:   {}",
            p.server_rsa_cert.display()
        );
        println!(
            "    ECDSA server certificate: {}",
            p.server_ecdsa_cert.display()
        );
    }
    if settings.demo {
        let ids = unicharge_server::demo::start_for(&server, &settings.csms.path_prefix).await?;
        println!(
            "  DEMO MODE: simulated stations {} (demo data; never use this data directory for real)",
            ids.join(", ")
        );
    }
    if server.store.list_stations().await?.is_empty() {
        println!("  no stations registered yet: `unicharge station add CP001 --generate-password`");
    }
    tokio::signal::ctrl_c().await?;
    println!("shutting down");
    server.shutdown().await;
    Ok(())
}

/// Raise this process's soft limit of open files to its hard limit; returns the soft limit in
/// force afterwards.
fn raise_open_file_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit / setrlimit read and write only the struct we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 0;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return raised.rlim_cur;
            }
        }
    }
    limit.rlim_cur
}

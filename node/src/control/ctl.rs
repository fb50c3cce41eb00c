//! `understudy ctl`: the command line over the control socket.
//!
//! Exit status: 0 when the node carried the command out, 1 when the node
//! answered with an error, 2 when the node could not be reached.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};

use super::client::{self, ClientError};
use super::protocol::{Request, Response};
use super::render;
use super::render_cluster;
use crate::config::{self, DEFAULT_CONTROL_SOCKET, ZoneSpec};

/// How long ctl waits for the node's answer.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(120);

/// `understudy ctl [--config FILE | --socket PATH] [--json] COMMAND`
#[derive(Debug, Clone, Args)]
pub struct CtlArgs {
    /// Find the control socket in this config file.
    #[arg(long, value_name = "FILE", global = true, conflicts_with = "socket")]
    pub config: Option<PathBuf>,
    /// The control socket [default: /run/understudy/control.sock].
    #[arg(long, value_name = "PATH", global = true)]
    pub socket: Option<PathBuf>,
    /// Print the node's raw JSON response.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: CtlCommand,
}

/// The commands of `understudy ctl`.
#[derive(Debug, Clone, Subcommand)]
pub enum CtlCommand {
    /// Zone status and operations.
    #[command(subcommand)]
    Zone(ZoneCommand),
    /// The cluster this node belongs to.
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// Withdraw this node from anycast (health check fails on purpose).
    Drain,
    /// Undo `drain` (announces again after `[health] rise` clean checks).
    Undrain,
    /// Show the anycast health verdict, as `/healthz` serves it.
    Health,
    /// Reload the configuration file.
    Reload,
}

/// `understudy ctl zone …`
#[derive(Debug, Clone, Subcommand)]
pub enum ZoneCommand {
    /// Show the state of every zone, or every detail of one.
    Status {
        /// Only this zone.
        zone: Option<String>,
    },
    /// Become a secondary for a zone (kept across restarts).
    Add {
        /// The zone's name.
        zone: String,
        /// A primary, ADDRESS[:PORT]; repeat for more, tried in order.
        #[arg(long = "primary", value_name = "ADDR[:PORT]", required = true)]
        primaries: Vec<String>,
        /// TSIG key (defined in the config) for SOA queries, transfers and NOTIFY.
        #[arg(long, value_name = "NAME")]
        tsig_key: Option<String>,
        /// Who may transfer the zone from this node: address, prefix or key:NAME.
        #[arg(long = "allow-transfer", value_name = "ACL")]
        allow_transfer: Vec<String>,
        /// Who besides the primaries may NOTIFY: address, prefix or key:NAME.
        #[arg(long = "allow-notify", value_name = "ACL")]
        allow_notify: Vec<String>,
        /// Local address to send SOA queries and transfers from.
        #[arg(long, value_name = "ADDRESS")]
        transfer_source: Option<String>,
    },
    /// Stop serving a zone and delete its data.
    Remove {
        /// The zone's name.
        zone: String,
    },
    /// Ask the primary for the zone's SOA now.
    Refresh {
        /// The zone's name.
        zone: String,
    },
    /// Transfer the whole zone again, accepting the primary's serial even if
    /// it went backwards (bumps the zone's epoch).
    Retransfer {
        /// The zone's name.
        zone: String,
    },
}

/// `understudy ctl cluster …`
#[derive(Debug, Clone, Subcommand)]
pub enum ClusterCommand {
    /// List the cluster's members and every zone's serial on each.
    Members,
}

/// Runs one ctl command and returns the exit status.
pub fn run(args: CtlArgs) -> ExitCode {
    let socket = match socket_path(&args) {
        Ok(socket) => socket,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let request = request(args.command);
    match client::send(&socket, &request, RESPONSE_TIMEOUT) {
        Ok(response) => print_response(&request, &response, args.json),
        Err(error @ ClientError::Connect { .. }) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn socket_path(args: &CtlArgs) -> Result<PathBuf, config::LoadError> {
    match (&args.socket, &args.config) {
        (Some(socket), _) => Ok(socket.clone()),
        (None, Some(config)) => config::control_socket(config),
        (None, None) => Ok(PathBuf::from(DEFAULT_CONTROL_SOCKET)),
    }
}

/// The request a command line asks for.
pub fn request(command: CtlCommand) -> Request {
    match command {
        CtlCommand::Zone(ZoneCommand::Status { zone }) => Request::ZoneStatus { zone },
        CtlCommand::Zone(ZoneCommand::Add {
            zone,
            primaries,
            tsig_key,
            allow_transfer,
            allow_notify,
            transfer_source,
        }) => Request::ZoneAdd {
            spec: Box::new(ZoneSpec {
                name: zone,
                primaries,
                tsig_key,
                allow_transfer,
                allow_notify,
                transfer_source,
                ..ZoneSpec::default()
            }),
        },
        CtlCommand::Zone(ZoneCommand::Remove { zone }) => Request::ZoneRemove { zone },
        CtlCommand::Zone(ZoneCommand::Refresh { zone }) => Request::ZoneRefresh { zone },
        CtlCommand::Zone(ZoneCommand::Retransfer { zone }) => Request::ZoneRetransfer { zone },
        CtlCommand::Cluster(ClusterCommand::Members) => Request::ClusterMembers,
        CtlCommand::Drain => Request::Drain,
        CtlCommand::Undrain => Request::Undrain,
        CtlCommand::Health => Request::Health,
        CtlCommand::Reload => Request::Reload,
    }
}

fn print_response(request: &Request, response: &Response, json: bool) -> ExitCode {
    if json {
        match serde_json::to_string_pretty(response) {
            Ok(text) => println!("{text}"),
            Err(error) => eprintln!("error: {error}"),
        }
    } else {
        match response {
            Response::ZoneStatus { zones } => print!("{}", human_status(request, zones)),
            Response::ClusterMembers { cluster } => print!("{}", render_cluster::members(cluster)),
            Response::Health { health } => print!("{}", render_cluster::health(health)),
            Response::Done { message } => println!("{message}"),
            Response::Error { message } => eprintln!("error: {message}"),
        }
    }
    match response {
        Response::Error { .. } => ExitCode::FAILURE,
        _ => ExitCode::SUCCESS,
    }
}

fn human_status(request: &Request, zones: &[super::ZoneStatusView]) -> String {
    match (request, zones) {
        (Request::ZoneStatus { zone: Some(_) }, [zone]) => render::detail(zone),
        (_, []) => "no zones\n".to_owned(),
        (_, zones) => render::table(zones),
    }
}

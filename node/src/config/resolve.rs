//! From the file as written ([`FileSpec`]) to checked, typed settings.

use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::de::IgnoredAny;
use understudy_proto::Name;
use understudy_proto::acl::{Acl, AclEntry, AclError};

use super::spec::{
    DnsSpec, FileSpec, KeySpec, LogSpec, MetricsSpec, NodeSpec, VersionSpec, ZoneSpec,
};
use super::units::parse_duration;
use super::{
    Config, ControlSettings, DEFAULT_CONTROL_SOCKET, DEFAULT_DATA_DIR, DEFAULT_METRICS_PORT,
    DnsSettings, Invalid, LoadError, LogFormat, LogSettings, MetricsSettings, NodeSettings,
    TsigAlgorithm, TsigKey, ZoneConfig, ZonePolicy, parse_key_file,
};

/// The DNS port assumed when an address has none.
const DNS_PORT: u16 = 53;
/// Longest NSID, CHAOS identity or version string: one TXT character-string.
const MAX_TEXT_LEN: usize = 255;

pub fn parse(text: &str, base: &Path, path: &Path) -> Result<Config, LoadError> {
    let syntax = |error: toml::de::Error| LoadError::Syntax {
        path: path.to_path_buf(),
        message: error.to_string(),
    };
    let version: VersionSpec = toml::from_str(text).map_err(syntax)?;
    match version.version {
        Some(toml::Value::Integer(1)) => {}
        Some(other) => {
            return Err(LoadError::Version {
                path: path.to_path_buf(),
                found: format!("version = {other} is not supported"),
            });
        }
        None => {
            return Err(LoadError::Version {
                path: path.to_path_buf(),
                found: "`version` is missing".into(),
            });
        }
    }
    let spec: FileSpec = toml::from_str(text).map_err(syntax)?;
    resolve(spec, base).map_err(|invalid| match invalid {
        Failure::Invalid(invalid) => LoadError::Invalid {
            path: path.to_path_buf(),
            invalid,
        },
        Failure::Read(error) => error,
    })
}

/// A key file that cannot be read is a [`LoadError::Read`], everything else
/// an [`Invalid`].
pub(super) enum Failure {
    Invalid(Invalid),
    Read(LoadError),
}

impl From<Invalid> for Failure {
    fn from(invalid: Invalid) -> Failure {
        Failure::Invalid(invalid)
    }
}

fn resolve(spec: FileSpec, base: &Path) -> Result<Config, Failure> {
    let node = node(&spec.node, base)?;
    let dns = dns(&spec.dns, &node.id)?;
    let socket = spec
        .control
        .socket
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONTROL_SOCKET));
    let control = ControlSettings {
        socket: base.join(socket),
    };
    let metrics = metrics(&spec.metrics)?;
    let log = log(&spec.log)?;
    reject_unknown(&spec.zone_defaults.unknown, "zone_defaults")?;
    let zone_defaults =
        ZonePolicy::default().overlay(&spec.zone_defaults.policy, "zone_defaults")?;
    let tsig_keys = keys(&spec.tsig_key, base)?;
    let cluster = match &spec.cluster {
        Some(cluster) => Some(super::cluster::resolve(cluster, base, &node.id)?),
        None => None,
    };
    let health = super::health::resolve(&spec.health)?;
    let mut zones: Vec<ZoneConfig> = Vec::with_capacity(spec.zone.len());
    let mut seen = HashSet::new();
    for zone_spec in &spec.zone {
        let zone = zone(zone_spec, &tsig_keys, &zone_defaults)?;
        if !seen.insert(zone.name.clone()) {
            return Err(Invalid::new(format!("zone \"{}\"", zone.name))
                .because("is defined twice")
                .into());
        }
        zones.push(zone);
    }
    let catalogs = super::catalog::resolve(&spec.catalog, &zones, &tsig_keys, &zone_defaults)?;
    Ok(Config {
        source: PathBuf::new(),
        node,
        dns,
        control,
        metrics,
        log,
        zone_defaults,
        tsig_keys,
        zones,
        cluster,
        catalogs,
        health,
    })
}

fn node(spec: &NodeSpec, base: &Path) -> Result<NodeSettings, Invalid> {
    let id = label(&spec.id, "node: id")?;
    let region = match &spec.region {
        Some(region) => label(region, "node: region")?,
        None => "default".to_owned(),
    };
    let data_dir = spec
        .data_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
    Ok(NodeSettings {
        id,
        region,
        data_dir: base.join(data_dir),
    })
}

/// Node ids and regions travel in logs, NSID and gossip: keep them plain.
pub(super) fn label(text: &str, context: &str) -> Result<String, Invalid> {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if text.is_empty() || text.len() > 63 || !text.chars().all(plain) {
        return Err(Invalid::new(context).because(format!(
            "\"{text}\" must be 1 to 63 letters, digits, '-', '_' or '.'"
        )));
    }
    Ok(text.to_owned())
}

fn dns(spec: &DnsSpec, node_id: &str) -> Result<DnsSettings, Invalid> {
    let listen = match &spec.listen {
        Some(listen) => endpoints(listen, DNS_PORT, "dns: listen")?,
        None => vec![
            SocketAddr::from(([0, 0, 0, 0], DNS_PORT)),
            SocketAddr::from(([0u16; 8], DNS_PORT)),
        ],
    };
    if listen.is_empty() {
        return Err(Invalid::new("dns: listen").because("needs at least one address"));
    }
    let tcp_idle_timeout = match &spec.tcp_idle_timeout {
        Some(value) => parse_duration(value)
            .map_err(|reason| Invalid::new("dns: tcp_idle_timeout").because(reason))?,
        None => std::time::Duration::from_secs(10),
    };
    if tcp_idle_timeout.is_zero() {
        return Err(Invalid::new("dns: tcp_idle_timeout").because("must not be 0"));
    }
    let tcp_max_connections = spec.tcp_max_connections.unwrap_or(1000);
    if tcp_max_connections == 0 {
        return Err(Invalid::new("dns: tcp_max_connections").because("must not be 0"));
    }
    Ok(DnsSettings {
        listen,
        udp_workers: count(spec.udp_workers.unwrap_or(0), "dns: udp_workers")?,
        tcp_idle_timeout,
        tcp_max_connections: count(tcp_max_connections, "dns: tcp_max_connections")?,
        nsid: optional_text(&spec.nsid, node_id, "dns: nsid")?.map(String::into_bytes),
        identity: optional_text(&spec.identity, node_id, "dns: identity")?,
        version: optional_text(&spec.version, super::DEFAULT_VERSION_TEXT, "dns: version")?,
    })
}

fn count(value: u64, context: &str) -> Result<usize, Invalid> {
    usize::try_from(value).map_err(|_| Invalid::new(context).because("is too large"))
}

/// Absent: the default; `""`: disabled.
fn optional_text(
    value: &Option<String>,
    default: &str,
    context: &str,
) -> Result<Option<String>, Invalid> {
    let text = value.as_deref().unwrap_or(default);
    if text.len() > MAX_TEXT_LEN {
        return Err(Invalid::new(context).because(format!("is longer than {MAX_TEXT_LEN} bytes")));
    }
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

fn metrics(spec: &MetricsSpec) -> Result<MetricsSettings, Invalid> {
    let listen = match &spec.listen {
        Some(text) => Some(
            endpoint(text, DEFAULT_METRICS_PORT)
                .map_err(|reason| Invalid::new("metrics: listen").because(reason))?,
        ),
        None => None,
    };
    Ok(MetricsSettings { listen })
}

fn log(spec: &LogSpec) -> Result<LogSettings, Invalid> {
    let format = match spec.format.as_deref() {
        None | Some("text") => LogFormat::Text,
        Some("json") => LogFormat::Json,
        Some(other) => {
            return Err(Invalid::new("log: format")
                .because(format!("\"{other}\" is not \"text\" or \"json\"")));
        }
    };
    let level = spec.level.clone().unwrap_or_else(|| "info".to_owned());
    tracing_subscriber::EnvFilter::try_new(&level).map_err(|error| {
        Invalid::new("log: level").because(format!("\"{level}\" is not a log filter: {error}"))
    })?;
    Ok(LogSettings { format, level })
}

fn reject_unknown(unknown: &BTreeMap<String, IgnoredAny>, context: &str) -> Result<(), Invalid> {
    match unknown.keys().next() {
        Some(key) => Err(Invalid::new(context).because(format!("unknown key `{key}`"))),
        None => Ok(()),
    }
}

fn keys(specs: &[KeySpec], base: &Path) -> Result<Vec<TsigKey>, Failure> {
    let mut keys: Vec<TsigKey> = Vec::with_capacity(specs.len());
    for spec in specs {
        let key = key(spec, base)?;
        if keys.iter().any(|other| other.name == key.name) {
            return Err(Invalid::new(format!("tsig_key \"{}\"", spec.name))
                .because("is defined twice")
                .into());
        }
        keys.push(key);
    }
    Ok(keys)
}

fn key(spec: &KeySpec, base: &Path) -> Result<TsigKey, Failure> {
    let context = format!("tsig_key \"{}\"", spec.name);
    let at = |key: &str| Invalid::new(format!("{context}: {key}"));
    let name = key_name(&spec.name).map_err(|reason| at("name").because(reason))?;
    let (algorithm, secret) = match (&spec.secret, &spec.file) {
        (Some(secret), None) => {
            let algorithm = spec
                .algorithm
                .as_deref()
                .ok_or_else(|| at("algorithm").because("is required with `secret`"))?;
            (algorithm.to_owned(), secret.clone())
        }
        (None, Some(file)) => from_key_file(&base.join(file), &name, spec, &context)?,
        _ => {
            return Err(at("secret")
                .because("give exactly one of `secret` and `file`")
                .into());
        }
    };
    let algorithm: TsigAlgorithm = algorithm
        .parse()
        .map_err(|error: super::AlgorithmError| at("algorithm").because(error.to_string()))?;
    let secret = BASE64
        .decode(secret.trim())
        .map_err(|error| at("secret").because(format!("is not base64: {error}")))?;
    if secret.is_empty() {
        return Err(at("secret").because("is empty").into());
    }
    Ok(TsigKey {
        name,
        algorithm,
        secret,
    })
}

fn key_name(text: &str) -> Result<Name, String> {
    if text.trim().is_empty() {
        return Err("is empty".into());
    }
    Name::from_ascii(text).map_err(|error| format!("\"{text}\" is not a domain name: {error}"))
}

/// The algorithm and secret of the key named `name` in a BIND key file.
fn from_key_file(
    path: &Path,
    name: &Name,
    spec: &KeySpec,
    context: &str,
) -> Result<(String, String), Failure> {
    let text = std::fs::read_to_string(path).map_err(|source| {
        Failure::Read(LoadError::Read {
            path: path.to_path_buf(),
            source,
        })
    })?;
    let at = |key: &str| Invalid::new(format!("{context}: {key}"));
    let statements = parse_key_file(&text)
        .map_err(|error| at("file").because(format!("{}: {error}", path.display())))?;
    let statement = statements
        .into_iter()
        .find(|statement| Name::from_ascii(&statement.name).is_ok_and(|found| &found == name))
        .ok_or_else(|| {
            at("file").because(format!("{} holds no key named \"{name}\"", path.display()))
        })?;
    if let Some(algorithm) = &spec.algorithm {
        let same = algorithm.parse::<TsigAlgorithm>().ok()
            == statement.algorithm.parse::<TsigAlgorithm>().ok();
        if !same {
            return Err(at("algorithm")
                .because(format!(
                    "\"{algorithm}\" differs from \"{}\" in {}",
                    statement.algorithm,
                    path.display()
                ))
                .into());
        }
    }
    Ok((statement.algorithm, statement.secret))
}

/// Checks one `[[zone]]` (or a zone added at run time).
pub fn zone(
    spec: &ZoneSpec,
    keys: &[TsigKey],
    defaults: &ZonePolicy,
) -> Result<ZoneConfig, Invalid> {
    if spec.name.trim().is_empty() {
        return Err(Invalid::new("zone").because("`name` is empty"));
    }
    let name = Name::from_ascii(&spec.name).map_err(|error| {
        Invalid::new(format!("zone \"{}\": name", spec.name))
            .because(format!("is not a domain name: {error}"))
    })?;
    let context = format!("zone \"{name}\"");
    let at = |key: &str| Invalid::new(format!("{context}: {key}"));
    reject_unknown(&spec.unknown, &context)?;
    if spec.primaries.is_empty() {
        return Err(at("primaries").because("needs at least one primary"));
    }
    let primaries = endpoints(&spec.primaries, DNS_PORT, &format!("{context}: primaries"))?;
    let tsig_key = match &spec.tsig_key {
        Some(text) => Some(known_key(text, keys).map_err(|reason| at("tsig_key").because(reason))?),
        None => None,
    };
    let allow_transfer = access_list(
        &spec.allow_transfer,
        keys,
        &format!("{context}: allow_transfer"),
    )?;
    let allow_notify = access_list(
        &spec.allow_notify,
        keys,
        &format!("{context}: allow_notify"),
    )?;
    let transfer_source = match &spec.transfer_source {
        Some(text) => Some(
            source_address(text, &primaries)
                .map_err(|reason| at("transfer_source").because(reason))?,
        ),
        None => None,
    };
    Ok(ZoneConfig {
        policy: defaults.overlay(&spec.policy, &context)?,
        name,
        primaries,
        tsig_key,
        allow_transfer,
        allow_notify,
        transfer_source,
        spec: spec.clone(),
    })
}

fn known_key(text: &str, keys: &[TsigKey]) -> Result<Name, String> {
    let name = key_name(text)?;
    if keys.iter().any(|key| key.name == name) {
        Ok(name)
    } else {
        Err(format!("no [[tsig_key]] is named \"{text}\""))
    }
}

fn access_list(entries: &[String], keys: &[TsigKey], context: &str) -> Result<Acl, Invalid> {
    let mut acl = Acl::nobody();
    for text in entries {
        let entry: AclEntry = text.parse().map_err(|error: AclError| {
            Invalid::new(context).because(format!("\"{text}\": {error}"))
        })?;
        if let Some(name) = entry.key_name()
            && !keys.iter().any(|key| &key.name == name)
        {
            return Err(Invalid::new(context)
                .because(format!("\"{text}\": no [[tsig_key]] is named \"{name}\"")));
        }
        acl.push(entry);
    }
    Ok(acl)
}

fn source_address(text: &str, primaries: &[SocketAddr]) -> Result<IpAddr, String> {
    let address: IpAddr = text
        .trim()
        .parse()
        .map_err(|_| format!("\"{text}\" is not an IP address"))?;
    if let Some(primary) = primaries
        .iter()
        .find(|primary| primary.is_ipv4() != address.is_ipv4())
    {
        return Err(format!(
            "{address} cannot reach primary {primary}: the address families differ"
        ));
    }
    Ok(address)
}

fn endpoints(
    texts: &[String],
    default_port: u16,
    context: &str,
) -> Result<Vec<SocketAddr>, Invalid> {
    let mut addresses = Vec::with_capacity(texts.len());
    for text in texts {
        let address =
            endpoint(text, default_port).map_err(|reason| Invalid::new(context).because(reason))?;
        if addresses.contains(&address) {
            return Err(Invalid::new(context).because(format!("{address} is listed twice")));
        }
        addresses.push(address);
    }
    Ok(addresses)
}

/// `192.0.2.1`, `192.0.2.1:5300`, `::1`, `[::1]`, `[::1]:5300`.
pub fn endpoint(text: &str, default_port: u16) -> Result<SocketAddr, String> {
    let text = text.trim();
    if let Ok(address) = text.parse::<SocketAddr>() {
        return Ok(address);
    }
    let bare = text
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(text);
    bare.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, default_port))
        .map_err(|_| {
            format!("\"{text}\" is not an IP address with an optional port (192.0.2.1:53, [2001:db8::1]:53)")
        })
}

//! `[[catalog]]`: a `[[zone]]` of this node read as an RFC 9432 catalog
//! zone, and the template its member zones are provisioned with.
//!
//! As in BIND (`catalog-zones { zone "…" default-primaries … }`) and Knot
//! (`catalog-role: interpret` with a `catalog-template`), the catalog is an
//! ordinary secondary zone, transferred and refreshed like any other; the
//! table only says to read it and how to configure its members. Member
//! zones take the catalog zone's own primaries, TSIG key, ACLs and transfer
//! source unless the table gives their own, and `[zone_defaults]` policy.

use serde::Deserialize;
use understudy_proto::Name;

use super::resolve::zone;
use super::{Invalid, TsigKey, ZoneConfig, ZonePolicy, ZoneSpec};

/// `[[catalog]]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogSpec {
    /// `zone`: the catalog zone, a `[[zone]]` of this file.
    pub zone: String,
    /// `primaries` of member zones.
    pub primaries: Option<Vec<String>>,
    /// `tsig_key` of member zones.
    pub tsig_key: Option<String>,
    /// `allow_transfer` of member zones.
    pub allow_transfer: Option<Vec<String>>,
    /// `allow_notify` of member zones.
    pub allow_notify: Option<Vec<String>>,
    /// `transfer_source` of member zones.
    pub transfer_source: Option<String>,
}

/// One catalog, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogSettings {
    /// The catalog zone.
    pub zone: Name,
    /// The member template: the catalog zone's description overlaid with
    /// the table's keys (its `name` is the catalog's, replaced per member).
    pub template: ZoneSpec,
}

impl CatalogSettings {
    /// The description of member zone `member`.
    pub fn member_spec(&self, member: &Name) -> ZoneSpec {
        ZoneSpec {
            name: member.to_string(),
            ..self.template.clone()
        }
    }
}

/// Checks every `[[catalog]]` against the zones and keys of the file.
pub(super) fn resolve(
    specs: &[CatalogSpec],
    zones: &[ZoneConfig],
    keys: &[TsigKey],
    defaults: &ZonePolicy,
) -> Result<Vec<CatalogSettings>, Invalid> {
    let mut catalogs: Vec<CatalogSettings> = Vec::with_capacity(specs.len());
    for spec in specs {
        let context = format!("catalog \"{}\"", spec.zone);
        let name = Name::from_ascii(&spec.zone).map_err(|error| {
            Invalid::new(format!("{context}: zone"))
                .because(format!("is not a domain name: {error}"))
        })?;
        let Some(catalog_zone) = zones.iter().find(|zone| zone.name == name) else {
            return Err(Invalid::new(format!("{context}: zone"))
                .because("is not a [[zone]] of this file; declare the catalog zone there"));
        };
        if catalogs.iter().any(|catalog| catalog.zone == name) {
            return Err(Invalid::new(context).because("is declared twice"));
        }
        let template = template(spec, &catalog_zone.spec);
        // A member zone must validate with this template; check it now, on
        // a name no catalog can list, rather than at the first member.
        let probe = Name::from_ascii("member.invalid.").unwrap_or_else(|_| Name::root());
        zone(
            &ZoneSpec {
                name: probe.to_string(),
                ..template.clone()
            },
            keys,
            defaults,
        )
        .map_err(|invalid| {
            Invalid::new(format!("{context}: member template")).because(invalid.to_string())
        })?;
        catalogs.push(CatalogSettings {
            zone: name,
            template,
        });
    }
    Ok(catalogs)
}

fn template(spec: &CatalogSpec, catalog: &ZoneSpec) -> ZoneSpec {
    ZoneSpec {
        name: catalog.name.clone(),
        primaries: spec
            .primaries
            .clone()
            .unwrap_or_else(|| catalog.primaries.clone()),
        tsig_key: spec.tsig_key.clone().or_else(|| catalog.tsig_key.clone()),
        allow_transfer: spec
            .allow_transfer
            .clone()
            .unwrap_or_else(|| catalog.allow_transfer.clone()),
        allow_notify: spec
            .allow_notify
            .clone()
            .unwrap_or_else(|| catalog.allow_notify.clone()),
        transfer_source: spec
            .transfer_source
            .clone()
            .or_else(|| catalog.transfer_source.clone()),
        policy: Default::default(),
        unknown: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Config;

    const BASE: &str = r#"
version = 1
[node]
id = "n1"
[[tsig_key]]
name = "k"
algorithm = "hmac-sha256"
secret = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"
[[zone]]
name = "catalog.example."
primaries = ["192.0.2.1"]
tsig_key = "k"
"#;

    fn parse(extra: &str) -> Result<Config, String> {
        Config::parse(
            &format!("{BASE}{extra}"),
            Path::new("/"),
            Path::new("t.toml"),
        )
        .map_err(|error| error.to_string())
    }

    #[test]
    fn members_take_the_catalogs_settings_unless_the_table_says_otherwise() {
        let config = parse("[[catalog]]\nzone = \"catalog.example.\"\n").unwrap();
        let catalog = &config.catalogs[0];
        let member = catalog.member_spec(&"a.example.".parse().unwrap());
        assert_eq!(member.name, "a.example.");
        assert!(
            config
                .summary()
                .contains("catalog   catalog.example. (members from 192.0.2.1)"),
            "{}",
            config.summary()
        );
        assert_eq!(member.primaries, ["192.0.2.1"]);
        assert_eq!(member.tsig_key.as_deref(), Some("k"));
        let own = parse(
            "[[catalog]]\nzone = \"catalog.example.\"\nprimaries = [\"192.0.2.7\"]\nallow_transfer = [\"10.0.0.0/8\"]\n",
        )
        .unwrap();
        let member = own.catalogs[0].member_spec(&"a.example.".parse().unwrap());
        assert_eq!(member.primaries, ["192.0.2.7"]);
        assert_eq!(member.allow_transfer, ["10.0.0.0/8"]);
    }

    #[test]
    fn a_catalog_must_be_a_zone_and_its_template_valid() {
        let error = parse("[[catalog]]\nzone = \"other.example.\"\n").unwrap_err();
        assert!(error.contains("not a [[zone]]"), "{error}");
        let error =
            parse("[[catalog]]\nzone = \"catalog.example.\"\ntsig_key = \"nope\"\n").unwrap_err();
        assert!(error.contains("member template"), "{error}");
        let error = parse("[[catalog]]\nzone = \"catalog.example.\"\nbogus = 1\n").unwrap_err();
        assert!(error.contains("bogus"), "{error}");
    }

    #[test]
    fn the_deploy_templates_catalog_block_loads() {
        let template = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/understudy.toml"),
        )
        .unwrap();
        let block: Vec<&str> = template
            .lines()
            .skip_while(|line| *line != "# [[catalog]]")
            .take_while(|line| line.starts_with('#'))
            .map(|line| {
                line.strip_prefix("# ")
                    .unwrap_or(line.trim_start_matches('#'))
            })
            .collect();
        assert!(block.len() > 5, "the template documents [[catalog]]");
        let text = format!(
            "version = 1\n[node]\nid = \"n1\"\n\
             [[tsig_key]]\nname = \"xfr-key\"\nalgorithm = \"hmac-sha256\"\n\
             secret = \"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0\"\n\
             [[zone]]\nname = \"catalog.example.com.\"\nprimaries = [\"192.0.2.1\"]\n{}\n",
            block.join("\n")
        );
        let config = Config::parse(&text, Path::new("/"), Path::new("t.toml"))
            .unwrap_or_else(|error| panic!("{error}\n{text}"));
        let member = config.catalogs[0].member_spec(&"m.example.".parse().unwrap());
        assert_eq!(member.primaries, ["192.0.2.1:53"]);
        assert_eq!(member.tsig_key.as_deref(), Some("xfr-key"));
    }
}

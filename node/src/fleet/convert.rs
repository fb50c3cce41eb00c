//! Between the node's zone description ([`ZoneSpec`], what `ctl zone add`
//! sends and `[[zone]]` holds) and the fleet list's ([`FleetZone`]).

use understudy_proto::Name;
use understudy_proto::fleet::FleetZone;

use crate::config::{PolicySpec, ZoneSpec};

/// The fleet list's form of `spec` (its name is the list's key).
pub fn to_fleet(spec: &ZoneSpec) -> FleetZone {
    FleetZone {
        primaries: spec.primaries.clone(),
        tsig_key: spec.tsig_key.clone(),
        allow_transfer: spec.allow_transfer.clone(),
        allow_notify: spec.allow_notify.clone(),
        transfer_source: spec.transfer_source.clone(),
        options: options(&spec.policy),
        catalog: None,
        member_id: None,
    }
}

/// The zone description of fleet entry `zone`; an option a peer wrote
/// that this node cannot read is an error (the zone is then not applied
/// here, and says why in the log).
pub fn to_spec(zone: &Name, fleet: &FleetZone) -> Result<ZoneSpec, String> {
    let mut object = serde_json::Map::new();
    for (key, value) in &fleet.options {
        let value: serde_json::Value = serde_json::from_str(value)
            .map_err(|error| format!("option {key} = {value}: {error}"))?;
        object.insert(key.clone(), value);
    }
    let policy: PolicySpec = serde_json::from_value(serde_json::Value::Object(object))
        .map_err(|error| format!("options: {error}"))?;
    let known = options(&policy);
    if let Some((key, _)) = fleet
        .options
        .iter()
        .find(|(key, _)| !known.iter().any(|(known, _)| known == key))
    {
        return Err(format!("option {key} is not known to this node"));
    }
    Ok(ZoneSpec {
        name: zone.to_string(),
        primaries: fleet.primaries.clone(),
        tsig_key: fleet.tsig_key.clone(),
        allow_transfer: fleet.allow_transfer.clone(),
        allow_notify: fleet.allow_notify.clone(),
        transfer_source: fleet.transfer_source.clone(),
        policy,
        unknown: Default::default(),
    })
}

/// The policy keys set in `policy`, sorted, values as JSON.
fn options(policy: &PolicySpec) -> Vec<(String, String)> {
    let Ok(serde_json::Value::Object(object)) = serde_json::to_value(policy) else {
        return Vec::new();
    };
    let mut options: Vec<(String, String)> = object
        .into_iter()
        .map(|(key, value)| (key, value.to_string()))
        .collect();
    options.sort();
    options
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Scalar;

    #[test]
    fn a_zone_spec_survives_the_fleet_form() {
        let spec = ZoneSpec {
            name: "example.com.".into(),
            primaries: vec!["192.0.2.1".into(), "192.0.2.2:5353".into()],
            tsig_key: Some("k".into()),
            allow_transfer: vec!["10.0.0.0/8".into()],
            allow_notify: vec![],
            transfer_source: None,
            policy: PolicySpec {
                refresh_min: Some(Scalar::Text("1m".into())),
                max_records: Some(Scalar::Integer(1000)),
                ..PolicySpec::default()
            },
            unknown: Default::default(),
        };
        let fleet = to_fleet(&spec);
        assert_eq!(fleet.options.len(), 2);
        let name = Name::from_ascii("example.com.").unwrap();
        assert_eq!(to_spec(&name, &fleet).unwrap(), spec);
    }

    #[test]
    fn an_option_this_node_cannot_read_is_an_error() {
        let fleet = FleetZone {
            options: vec![("no_such_key".into(), "1".into())],
            ..FleetZone::default()
        };
        let name = Name::from_ascii("example.com.").unwrap();
        assert!(to_spec(&name, &fleet).unwrap_err().contains("no_such_key"));
        let bad = FleetZone {
            options: vec![("refresh_min".into(), "not json".into())],
            ..FleetZone::default()
        };
        assert!(to_spec(&name, &bad).is_err());
    }
}

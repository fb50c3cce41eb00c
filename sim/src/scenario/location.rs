//! Where regions are: named places and the round trip between them.
//!
//! The round trip between two places is estimated from their great-circle
//! distance: light in fibre covers about 200 km per millisecond, and real
//! paths are about 1.5 times longer than the great circle, so a round trip
//! costs about 2 × 1.5 / 200 ms per km, plus a few milliseconds of
//! equipment. Frankfurt–New York (6,200 km) comes out near 98 ms; measured
//! is 80–90 ms.

/// Named places: (name, latitude, longitude) in degrees.
pub const PLACES: &[(&str, f64, f64)] = &[
    ("amsterdam", 52.37, 4.90),
    ("ashburn", 39.04, -77.49),
    ("frankfurt", 50.11, 8.68),
    ("hong-kong", 22.32, 114.17),
    ("johannesburg", -26.20, 28.05),
    ("london", 51.51, -0.13),
    ("los-angeles", 34.05, -118.24),
    ("mumbai", 19.08, 72.88),
    ("new-york", 40.71, -74.01),
    ("paris", 48.86, 2.35),
    ("sao-paulo", -23.55, -46.63),
    ("singapore", 1.35, 103.82),
    ("sydney", -33.87, 151.21),
    ("tokyo", 35.68, 139.69),
];

const EARTH_RADIUS_KM: f64 = 6_371.0;
const RTT_MS_PER_KM: f64 = 2.0 * 1.5 / 200.0;
const RTT_EQUIPMENT_MS: f64 = 5.0;

/// The coordinates of a named place.
pub fn place(name: &str) -> Option<[f64; 2]> {
    PLACES
        .iter()
        .find(|(place, _, _)| *place == name)
        .map(|&(_, lat, lon)| [lat, lon])
}

/// Great-circle distance in km (haversine).
pub fn distance_km(a: [f64; 2], b: [f64; 2]) -> f64 {
    let (lat1, lon1) = (a[0].to_radians(), a[1].to_radians());
    let (lat2, lon2) = (b[0].to_radians(), b[1].to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// Estimated round trip in ms between two places.
pub fn rtt_ms(a: [f64; 2], b: [f64; 2]) -> f64 {
    RTT_EQUIPMENT_MS + distance_km(a, b) * RTT_MS_PER_KM
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transatlantic_round_trip_is_plausible() {
        let rtt = rtt_ms(place("frankfurt").unwrap(), place("new-york").unwrap());
        assert!((80.0..120.0).contains(&rtt), "{rtt}");
        let km = distance_km(place("london").unwrap(), place("paris").unwrap());
        assert!((330.0..360.0).contains(&km), "{km}");
    }
}

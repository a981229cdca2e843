//! The morphological classes the simulator draws, split into the typical
//! population and the exotic one an anomaly ranker should surface.

use serde::{Deserialize, Serialize};

/// A source's morphology. The names (snake_case) are what the truth
/// catalogue's `class` column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceClass {
    /// Unresolved: the beam itself.
    Point,
    /// A single resolved elliptical Gaussian (star-forming galaxy, compact AGN).
    ResolvedGaussian,
    /// Fanaroff-Riley I: bright core, jets fading outwards.
    Fri,
    /// Fanaroff-Riley II: faint core, lobes brightest at their outer hotspots.
    Frii,
    /// Wide-angle tail: two jets bent the same way by a wide angle.
    WideAngleTail,
    /// Narrow-angle tail: jets swept back into nearly parallel tails.
    NarrowAngleTail,
    /// Head-tail: a bright head trailing a single fading tail.
    HeadTail,
    /// X-shaped: a primary pair of lobes and a fainter secondary pair at an angle.
    XShaped,
    /// An edge-brightened ring, like the odd radio circles.
    Ring,
    /// Double-double: an inner and an outer pair of lobes on one axis.
    DoubleDouble,
    /// A large, round, low-surface-brightness cluster halo.
    Halo,
    /// An elongated arc of diffuse emission (cluster relic).
    Relic,
    /// One-sided: a core and a single jet ending in a lobe.
    OneSided,
    /// An irregular clump of blobs with no symmetry.
    Irregular,
}

impl SourceClass {
    pub const ALL: [SourceClass; 14] = [
        SourceClass::Point,
        SourceClass::ResolvedGaussian,
        SourceClass::Fri,
        SourceClass::Frii,
        SourceClass::WideAngleTail,
        SourceClass::NarrowAngleTail,
        SourceClass::HeadTail,
        SourceClass::XShaped,
        SourceClass::Ring,
        SourceClass::DoubleDouble,
        SourceClass::Halo,
        SourceClass::Relic,
        SourceClass::OneSided,
        SourceClass::Irregular,
    ];

    /// Whether the class belongs to the exotic population.
    pub fn is_exotic(self) -> bool {
        matches!(
            self,
            SourceClass::XShaped
                | SourceClass::Ring
                | SourceClass::DoubleDouble
                | SourceClass::Halo
                | SourceClass::Relic
                | SourceClass::OneSided
                | SourceClass::Irregular
        )
    }

    /// Whether the class is built from several components (jets, lobes,
    /// rings...): everything but point and resolved Gaussian sources.
    pub fn is_multi_component(self) -> bool {
        !matches!(self, SourceClass::Point | SourceClass::ResolvedGaussian)
    }

    /// The snake_case name used in catalogues and configuration.
    pub fn name(self) -> &'static str {
        match self {
            SourceClass::Point => "point",
            SourceClass::ResolvedGaussian => "resolved_gaussian",
            SourceClass::Fri => "fri",
            SourceClass::Frii => "frii",
            SourceClass::WideAngleTail => "wide_angle_tail",
            SourceClass::NarrowAngleTail => "narrow_angle_tail",
            SourceClass::HeadTail => "head_tail",
            SourceClass::XShaped => "x_shaped",
            SourceClass::Ring => "ring",
            SourceClass::DoubleDouble => "double_double",
            SourceClass::Halo => "halo",
            SourceClass::Relic => "relic",
            SourceClass::OneSided => "one_sided",
            SourceClass::Irregular => "irregular",
        }
    }

    /// The range of largest angular sizes (arcsec) the class is drawn from,
    /// log-uniformly. Point sources have no size.
    pub fn size_range_arcsec(self) -> (f64, f64) {
        match self {
            SourceClass::Point => (0.0, 0.0),
            SourceClass::ResolvedGaussian => (4.0, 20.0),
            SourceClass::Fri => (20.0, 150.0),
            SourceClass::Frii => (30.0, 300.0),
            SourceClass::WideAngleTail | SourceClass::NarrowAngleTail => (30.0, 200.0),
            SourceClass::HeadTail => (20.0, 150.0),
            SourceClass::XShaped => (40.0, 250.0),
            SourceClass::Ring => (30.0, 120.0),
            SourceClass::DoubleDouble => (60.0, 400.0),
            SourceClass::Halo | SourceClass::Relic => (60.0, 400.0),
            SourceClass::OneSided => (20.0, 150.0),
            SourceClass::Irregular => (20.0, 120.0),
        }
    }
}

/// A class name that is not one of [`SourceClass::ALL`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown source class `{0}` (expected one of: point, resolved_gaussian, fri, frii, wide_angle_tail, narrow_angle_tail, head_tail, x_shaped, ring, double_double, halo, relic, one_sided, irregular)")]
pub struct UnknownClass(pub String);

impl std::str::FromStr for SourceClass {
    type Err = UnknownClass;

    /// Parses the snake_case names the catalogue writes.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        SourceClass::ALL
            .into_iter()
            .find(|c| c.name() == name)
            .ok_or_else(|| UnknownClass(name.to_string()))
    }
}

impl std::fmt::Display for SourceClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_match_serde() {
        for class in SourceClass::ALL {
            assert_eq!(class.name().parse::<SourceClass>(), Ok(class));
            assert_eq!(
                serde_json::to_string(&class).unwrap(),
                format!("\"{}\"", class.name())
            );
        }
        let err = "fr2".parse::<SourceClass>().unwrap_err().to_string();
        assert!(err.contains("`fr2`") && err.contains("frii"), "{err}");
    }
}

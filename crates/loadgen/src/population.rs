//! The simulated population: viewers (region, device, app version), a title
//! catalogue with Zipf-like popularity, and the small sampling helpers the
//! generator shares. Everything derives from the seed, nothing from the clock.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Regions and their share of viewers.
pub const REGIONS: [(&str, f64); 5] = [
    ("us-east", 0.34),
    ("eu-west", 0.26),
    ("us-west", 0.16),
    ("ap-south", 0.14),
    ("sa-east", 0.10),
];

/// Device platforms and their share of viewers.
pub const PLATFORMS: [(&str, f64); 5] = [
    ("tv", 0.38),
    ("web", 0.20),
    ("ios", 0.17),
    ("android", 0.17),
    ("console", 0.08),
];

/// Player app versions in the field and their share of viewers.
pub const APP_VERSIONS: [(&str, f64); 4] = [
    ("5.1.4", 0.15),
    ("5.2.0", 0.45),
    ("5.3.0", 0.30),
    ("5.4.0-beta", 0.10),
];

/// The adaptive-bitrate ladder (kbps).
pub const BITRATE_LADDER: [i64; 7] = [800, 1_500, 3_000, 4_500, 6_000, 8_000, 12_000];

/// Popularity exponent: title of rank k is watched in proportion to 1 / k^s.
pub const ZIPF_EXPONENT: f64 = 1.05;

/// Independent random streams, so that switching one scenario on does not
/// reshuffle the base traffic drawn from the others.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    Population = 1,
    Sessions = 2,
    Incident = 3,
    Corruption = 4,
    Late = 5,
    Retry = 6,
    Release = 7,
    Startup = 8,
}

/// A deterministic RNG for one stream of one seed.
pub fn rng_for(seed: u64, stream: Stream) -> StdRng {
    StdRng::seed_from_u64(seed ^ (stream as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Picks a name from a weighted table.
pub fn pick<R: Rng>(rng: &mut R, table: &[(&'static str, f64)]) -> &'static str {
    let total: f64 = table.iter().map(|(_, w)| w).sum();
    let mut u = rng.random::<f64>() * total;
    for (name, w) in table {
        if u < *w {
            return name;
        }
        u -= w;
    }
    table[table.len() - 1].0
}

pub fn viewer_id(index: usize) -> String {
    format!("v{index:06}")
}

/// Title ids are ranked by popularity: `t0001` is the most watched.
pub fn title_id(index: usize) -> String {
    format!("t{:04}", index + 1)
}

#[derive(Debug, Clone, PartialEq)]
pub struct Viewer {
    pub id: String,
    pub region: &'static str,
    pub platform: &'static str,
    pub app_version: &'static str,
    /// Highest rung of [`BITRATE_LADDER`] this device reaches.
    pub max_rung: usize,
}

/// The title catalogue: ids by popularity rank and a CDF to sample from.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub ids: Vec<String>,
    /// Running time of each title (ms): sessions start somewhere inside it.
    pub runtime_ms: Vec<i64>,
    cdf: Vec<f64>,
}

impl Catalog {
    pub fn new<R: Rng>(titles: usize, rng: &mut R) -> Self {
        let mut cdf = Vec::with_capacity(titles);
        let mut acc = 0.0;
        for k in 1..=titles {
            acc += 1.0 / (k as f64).powf(ZIPF_EXPONENT);
            cdf.push(acc);
        }
        for c in &mut cdf {
            *c /= acc;
        }
        Catalog {
            ids: (0..titles).map(title_id).collect(),
            runtime_ms: (0..titles)
                .map(|_| rng.random_range(20..=150) * 60_000)
                .collect(),
            cdf,
        }
    }

    /// A title index, drawn by popularity.
    pub fn sample<R: Rng>(&self, rng: &mut R) -> usize {
        let u = rng.random::<f64>();
        self.cdf
            .partition_point(|c| *c <= u)
            .min(self.cdf.len() - 1)
    }

    /// Share of sessions that go to the title of this index.
    pub fn share(&self, index: usize) -> f64 {
        self.cdf[index] - if index == 0 { 0.0 } else { self.cdf[index - 1] }
    }

    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.ids.iter().position(|t| t == id)
    }
}

#[derive(Debug, Clone)]
pub struct Population {
    pub viewers: Vec<Viewer>,
    pub catalog: Catalog,
}

impl Population {
    pub fn new(seed: u64, viewers: usize, titles: usize) -> Self {
        let mut rng = rng_for(seed, Stream::Population);
        let viewers = (0..viewers)
            .map(|i| {
                let platform = pick(&mut rng, &PLATFORMS);
                Viewer {
                    id: viewer_id(i),
                    region: pick(&mut rng, &REGIONS),
                    platform,
                    app_version: pick(&mut rng, &APP_VERSIONS),
                    max_rung: max_rung(platform),
                }
            })
            .collect();
        Population {
            viewers,
            catalog: Catalog::new(titles, &mut rng),
        }
    }
}

fn max_rung(platform: &str) -> usize {
    match platform {
        "tv" | "console" => 6,
        "web" => 5,
        _ => 3,
    }
}

/// Hits a fraction `rate` of the calls it is asked about, within one of the
/// exact count over any run, at randomised positions (a jittered accumulator
/// rather than a coin per call, so that "2 % malformed" means 2 %, not ~2 %).
#[derive(Debug, Clone)]
pub struct RateGate {
    rate: f64,
    acc: f64,
    threshold: f64,
}

impl RateGate {
    pub fn new<R: Rng>(rate: f64, rng: &mut R) -> Self {
        RateGate {
            rate: rate.clamp(0.0, 1.0),
            acc: 0.0,
            threshold: 1.0 - rng.random::<f64>(),
        }
    }

    pub fn hit<R: Rng>(&mut self, rng: &mut R) -> bool {
        if self.rate <= 0.0 {
            return false;
        }
        self.acc += self.rate;
        if self.acc >= self.threshold {
            self.acc -= 1.0;
            self.threshold = 1.0 - rng.random::<f64>();
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipf_skews_towards_the_first_titles() {
        let cat = Catalog::new(100, &mut rng_for(1, Stream::Population));
        let mut rng = rng_for(1, Stream::Sessions);
        let mut counts = vec![0u32; 100];
        for _ in 0..20_000 {
            counts[cat.sample(&mut rng)] += 1;
        }
        assert!(counts[0] > counts[9] * 5, "{counts:?}");
        assert!(counts[0] as f64 / 20_000.0 > 0.15);
        assert!((cat.share(0) - 0.19).abs() < 0.03);
        assert_eq!(cat.index_of("t0003"), Some(2));
    }

    #[test]
    fn gate_hits_the_exact_fraction() {
        let mut rng = rng_for(9, Stream::Corruption);
        for rate in [0.02, 0.1, 0.5, 1.0] {
            let mut g = RateGate::new(rate, &mut rng);
            let hits = (0..10_000).filter(|_| g.hit(&mut rng)).count() as f64;
            assert!((hits - rate * 10_000.0).abs() <= 1.0, "{rate}: {hits}");
        }
        let mut never = RateGate::new(0.0, &mut rng);
        assert!(!(0..1000).any(|_| never.hit(&mut rng)));
    }

    #[test]
    fn population_is_deterministic() {
        let a = Population::new(7, 50, 10);
        let b = Population::new(7, 50, 10);
        assert_eq!(a.viewers, b.viewers);
        assert_eq!(a.catalog.runtime_ms, b.catalog.runtime_ms);
        assert_ne!(a.viewers, Population::new(8, 50, 10).viewers);
    }
}

//! The simulated population: viewers (region, device, app version), a title
//! catalogue with Zipf-like popularity, and the small sampling helpers the
//! generator shares. Everything derives from the seed, nothing from the clock.

use chrono::{Duration, NaiveDate};
use playback_domain::catalogue::{Title, TitleKind};
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

/// Genres of the catalogue and their share of titles.
pub const GENRES: [(&str, f64); 8] = [
    ("drama", 0.20),
    ("comedy", 0.16),
    ("documentary", 0.12),
    ("kids", 0.12),
    ("thriller", 0.12),
    ("sci-fi", 0.10),
    ("music", 0.10),
    ("sport", 0.08),
];

/// Kinds of title and their share of the catalogue.
pub const KINDS: [(TitleKind, f64); 3] = [
    (TitleKind::Episode, 0.55),
    (TitleKind::Film, 0.30),
    (TitleKind::Track, 0.15),
];

/// Release days fall within [`RELEASE_WINDOW_DAYS`] before this day.
pub const RELEASE_EPOCH: &str = "2026-01-01";
pub const RELEASE_WINDOW_DAYS: i64 = 3 * 365;

/// Share of session starts on a title of the viewer's favourite genre (the
/// rest follow overall popularity).
pub const TASTE_SHARE: f64 = 0.7;

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
    /// Titles' genre, kind and release day.
    Catalogue = 9,
    /// Viewers' favourite genres.
    Taste = 10,
    /// The per-session coin: favourite genre or overall popularity.
    TasteCoin = 11,
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
    /// The genre (of [`GENRES`]) this viewer mostly watches.
    pub favourite_genre: &'static str,
}

/// The title catalogue: ids by popularity rank and a CDF to sample from.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub ids: Vec<String>,
    /// Running time of each title (ms): sessions start somewhere inside it.
    pub runtime_ms: Vec<i64>,
    /// Genre of each title (one of [`GENRES`]).
    pub genre: Vec<&'static str>,
    pub kind: Vec<TitleKind>,
    /// Release day of each title, `YYYY-MM-DD`.
    pub release_day: Vec<String>,
    cdf: Vec<f64>,
    /// Per genre (by [`GENRES`] order): its title indices by popularity rank
    /// and the CDF of popularity within the genre.
    by_genre: Vec<(Vec<usize>, Vec<f64>)>,
}

fn normalised_cdf(weights: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut acc = 0.0;
    let mut cdf: Vec<f64> = weights
        .map(|w| {
            acc += w;
            acc
        })
        .collect();
    for c in &mut cdf {
        *c /= acc;
    }
    cdf
}

fn draw(cdf: &[f64], u: f64) -> usize {
    cdf.partition_point(|c| *c <= u).min(cdf.len() - 1)
}

impl Catalog {
    /// `rng` draws the running times (the population stream); the genre,
    /// kind and release day come from [`Stream::Catalogue`] of `seed`, so
    /// that they shift none of the older draws.
    pub fn new<R: Rng>(seed: u64, titles: usize, rng: &mut R) -> Self {
        let weight = |k: usize| 1.0 / ((k + 1) as f64).powf(ZIPF_EXPONENT);
        let cdf = normalised_cdf((0..titles).map(weight));
        let runtime_ms = (0..titles)
            .map(|_| rng.random_range(20..=150) * 60_000)
            .collect();
        let mut crng = rng_for(seed, Stream::Catalogue);
        let epoch = NaiveDate::parse_from_str(RELEASE_EPOCH, "%Y-%m-%d").expect("epoch");
        let mut genre = Vec::with_capacity(titles);
        let mut kind = Vec::with_capacity(titles);
        let mut release_day = Vec::with_capacity(titles);
        for _ in 0..titles {
            genre.push(pick(&mut crng, &GENRES));
            let total: f64 = KINDS.iter().map(|(_, w)| w).sum();
            let mut u = crng.random::<f64>() * total;
            let mut k = KINDS[KINDS.len() - 1].0;
            for (kd, w) in KINDS {
                if u < w {
                    k = kd;
                    break;
                }
                u -= w;
            }
            kind.push(k);
            let back = crng.random_range(1..=RELEASE_WINDOW_DAYS);
            release_day.push(
                (epoch - Duration::days(back))
                    .format("%Y-%m-%d")
                    .to_string(),
            );
        }
        let by_genre = GENRES
            .iter()
            .map(|(g, _)| {
                let idx: Vec<usize> = (0..titles).filter(|&i| genre[i] == *g).collect();
                let cdf = normalised_cdf(idx.iter().map(|&i| weight(i)));
                (idx, cdf)
            })
            .collect();
        Catalog {
            ids: (0..titles).map(title_id).collect(),
            runtime_ms,
            genre,
            kind,
            release_day,
            cdf,
            by_genre,
        }
    }

    /// A title index, drawn by popularity.
    pub fn sample<R: Rng>(&self, rng: &mut R) -> usize {
        self.sample_at(rng.random::<f64>())
    }

    /// The title index at quantile `u` (in `[0, 1)`) of overall popularity.
    pub fn sample_at(&self, u: f64) -> usize {
        draw(&self.cdf, u)
    }

    /// The title index at quantile `u` of popularity within `genre`, or
    /// `None` when the catalogue has no title of that genre.
    pub fn sample_in_genre_at(&self, genre: &str, u: f64) -> Option<usize> {
        let g = GENRES.iter().position(|(name, _)| *name == genre)?;
        let (idx, cdf) = &self.by_genre[g];
        (!idx.is_empty()).then(|| idx[draw(cdf, u)])
    }

    /// Share of titles' overall popularity that goes to `genre`.
    pub fn genre_share(&self, genre: &str) -> f64 {
        (0..self.ids.len())
            .filter(|&i| self.genre[i] == genre)
            .map(|i| self.share(i))
            .sum()
    }

    /// The catalogue as the `playback.titles` dimension rows, by rank.
    pub fn titles(&self) -> Vec<Title> {
        (0..self.ids.len())
            .map(|i| Title {
                title_id: self.ids[i].clone(),
                genre: self.genre[i].to_string(),
                kind: self.kind[i],
                duration_ms: self.runtime_ms[i],
                release_day: self.release_day[i].clone(),
            })
            .collect()
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
        let mut taste = rng_for(seed, Stream::Taste);
        let viewers = (0..viewers)
            .map(|i| {
                let platform = pick(&mut rng, &PLATFORMS);
                Viewer {
                    id: viewer_id(i),
                    region: pick(&mut rng, &REGIONS),
                    platform,
                    app_version: pick(&mut rng, &APP_VERSIONS),
                    max_rung: max_rung(platform),
                    favourite_genre: pick(&mut taste, &GENRES),
                }
            })
            .collect();
        Population {
            viewers,
            catalog: Catalog::new(seed, titles, &mut rng),
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
        let cat = Catalog::new(1, 100, &mut rng_for(1, Stream::Population));
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
        assert_eq!(a.catalog.titles(), b.catalog.titles());
    }

    #[test]
    fn catalogue_has_genres_kinds_and_release_days() {
        let pop = Population::new(3, 400, 200);
        let titles = pop.catalog.titles();
        assert_eq!(titles.len(), 200);
        assert_eq!(titles[0].title_id, "t0001");
        assert_eq!(titles[0].duration_ms, pop.catalog.runtime_ms[0]);
        let genres: std::collections::BTreeSet<&str> =
            titles.iter().map(|t| t.genre.as_str()).collect();
        assert_eq!(genres.len(), GENRES.len(), "{genres:?}");
        for kind in [TitleKind::Film, TitleKind::Episode, TitleKind::Track] {
            assert!(titles.iter().any(|t| t.kind == kind), "{kind:?}");
        }
        for t in &titles {
            assert!(
                t.release_day.as_str() >= "2023-01-01" && t.release_day.as_str() < RELEASE_EPOCH,
                "{}",
                t.release_day
            );
        }
        let favourites: std::collections::BTreeSet<&str> =
            pop.viewers.iter().map(|v| v.favourite_genre).collect();
        assert_eq!(favourites.len(), GENRES.len());
        let total: f64 = GENRES.iter().map(|(g, _)| pop.catalog.genre_share(g)).sum();
        assert!((total - 1.0).abs() < 1e-9);
        let g = titles[5].genre.as_str();
        assert!(pop.catalog.sample_in_genre_at(g, 0.0).is_some());
        assert_eq!(pop.catalog.sample_in_genre_at("opera", 0.5), None);
    }
}

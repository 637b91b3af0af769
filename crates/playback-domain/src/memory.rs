//! In-memory twins of every port, for unit tests, benchmarks and the backfill.
//! Each can be told to fail, to prove handlers lose nothing on AWS errors.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::features::ViewerFeatures;
use crate::long_horizon::LongHorizonFeatures;
use crate::ports::*;
use crate::qoe::{combined_totals, Alert, Group, PartialWindow, Window, WindowTotals};
use crate::sre::incident::Incident;
use crate::sre::{SreCounts, SreKey};

fn injected(operation: &'static str, class: Retry) -> PortError {
    let code = match class {
        Retry::Retriable => "InjectedThrottling",
        Retry::NonRetriable => "InjectedAccessDenied",
    };
    PortError::call(operation, class, Some(code.into()), "injected failure")
}

/// Fails the calls whose keys are listed, and counts every write call.
#[derive(Default)]
pub struct Faults {
    pub failing_keys: Mutex<BTreeMap<String, Retry>>,
    pub writes: AtomicUsize,
}

impl Faults {
    /// The key's calls fail with a retriable error (a throttle) until healed.
    pub fn fail_key(&self, key: &str) {
        self.fail_key_with(key, Retry::Retriable);
    }
    /// The key's calls fail with an error of the given class until healed.
    pub fn fail_key_with(&self, key: &str, class: Retry) {
        self.failing_keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.to_string(), class);
    }
    pub fn heal(&self) {
        self.failing_keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
    fn check(&self, key: &str, op: &'static str) -> PortResult<()> {
        if let Some(class) = self
            .failing_keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
        {
            return Err(injected(op, *class));
        }
        self.writes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
    pub fn write_count(&self) -> usize {
        self.writes.load(Ordering::Relaxed)
    }
}

#[derive(Default)]
pub struct MemoryFeatureStore {
    pub items: Mutex<BTreeMap<String, ViewerFeatures>>,
    /// The batch's attributes of the same items ([`LongHorizonStore`]).
    pub long_horizon: Mutex<BTreeMap<String, Published>>,
    pub faults: Faults,
}

impl LongHorizonStore for MemoryFeatureStore {
    async fn publish(
        &self,
        f: &LongHorizonFeatures,
        published_ms: i64,
    ) -> PortResult<PublishOutcome> {
        self.faults.check(&f.viewer_id, "features.publish")?;
        let mut items = self
            .long_horizon
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if items
            .get(&f.viewer_id)
            .is_some_and(|p| p.features.as_of_ms >= f.as_of_ms)
        {
            return Ok(PublishOutcome::Stale);
        }
        let published = Published {
            features: f.clone(),
            published_ms,
        };
        items.insert(f.viewer_id.clone(), published);
        Ok(PublishOutcome::Written)
    }

    async fn load_published(&self, ids: &[String]) -> PortResult<BTreeMap<String, Published>> {
        let items = self
            .long_horizon
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Ok(ids
            .iter()
            .filter_map(|id| items.get(id).map(|p| (id.clone(), p.clone())))
            .collect())
    }
}

impl FeatureStore for MemoryFeatureStore {
    async fn load(&self, ids: &[String]) -> PortResult<BTreeMap<String, ViewerFeatures>> {
        let items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(ids
            .iter()
            .filter_map(|id| items.get(id).map(|f| (id.clone(), f.clone())))
            .collect())
    }

    async fn save(&self, f: &ViewerFeatures, expected: Option<&str>) -> PortResult<SaveOutcome> {
        self.faults.check(&f.viewer_id, "features.save")?;
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        let current = items
            .get(&f.viewer_id)
            .and_then(|c| c.last_position.as_deref());
        if current != expected {
            return Ok(SaveOutcome::Conflict);
        }
        items.insert(f.viewer_id.clone(), f.clone());
        Ok(SaveOutcome::Saved)
    }
}

/// (title, region, window start) -> (totals, shards flushed)
pub type WindowMap = BTreeMap<(String, String, i64), (WindowTotals, BTreeSet<String>)>;

/// (window start, shard) -> that shard's (title, region, totals), as stored.
type ShardItems = BTreeMap<(i64, String), Vec<Group>>;

#[derive(Default)]
pub struct MemoryWindowStore {
    shards: Mutex<ShardItems>,
    pub faults: Faults,
}

impl MemoryWindowStore {
    /// Every title x region window combined over the shards flushed.
    pub fn combined(&self) -> WindowMap {
        let mut out = WindowMap::new();
        for ((start, shard), groups) in self
            .shards
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            for (title, region, t) in groups {
                let (totals, shards) = out
                    .entry((title.clone(), region.clone(), *start))
                    .or_default();
                totals.add(t);
                shards.insert(shard.clone());
            }
        }
        out
    }
}

impl WindowStore for MemoryWindowStore {
    async fn flush_shard(
        &self,
        window: Window,
        shard_id: &str,
        groups: &[(&str, &str, &PartialWindow)],
    ) -> PortResult<Vec<WindowTotals>> {
        self.faults
            .check(&format!("{}#{shard_id}", window.start_ms), "windows.flush")?;
        let stored = groups
            .iter()
            .map(|(t, r, p)| (t.to_string(), r.to_string(), p.totals()))
            .collect();
        self.shards
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((window.start_ms, shard_id.to_string()), stored);
        let items = self.shards.lock().unwrap_or_else(PoisonError::into_inner);
        let stored = items
            .iter()
            .filter(|((start, _), _)| *start == window.start_ms)
            .flat_map(|(_, g)| g.iter().cloned());
        Ok(combined_totals(stored, groups))
    }
}

#[derive(Default)]
pub struct MemoryAlertSink {
    pub alerts: Mutex<BTreeMap<String, Alert>>,
    pub faults: Faults,
}

impl AlertSink for MemoryAlertSink {
    async fn raise(&self, alert: &Alert) -> PortResult<bool> {
        self.faults.check(&alert.id(), "alerts.raise")?;
        let mut a = self.alerts.lock().unwrap_or_else(PoisonError::into_inner);
        if a.contains_key(&alert.id()) {
            return Ok(false);
        }
        a.insert(alert.id(), alert.clone());
        Ok(true)
    }
}

#[derive(Default)]
pub struct MemoryDeadLetters {
    pub letters: Mutex<Vec<DeadLetter>>,
    pub faults: Faults,
}

impl DeadLetters for MemoryDeadLetters {
    async fn send(&self, letters: &[DeadLetter]) -> PortResult<()> {
        for l in letters {
            self.faults.check(&l.source, "dlq.send")?;
        }
        self.letters
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(letters);
        Ok(())
    }
}

#[derive(Default)]
pub struct MemorySreStore {
    pub buckets: Mutex<BTreeMap<SreKey, SreCounts>>,
    /// [`incident_id`] -> the current incident of that slice and kind.
    pub incidents: Mutex<BTreeMap<String, Incident>>,
    pub faults: Faults,
}

impl SreStore for MemorySreStore {
    async fn add(&self, key: &SreKey, counts: SreCounts) -> PortResult<SreCounts> {
        self.faults.check(&key.dimensions(), "sre.add")?;
        let mut b = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let t = b.entry(key.clone()).or_default();
        t.add(counts);
        Ok(*t)
    }

    async fn baseline(&self, key: &SreKey, minutes: u32) -> PortResult<SreCounts> {
        let b = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let mut sum = SreCounts::default();
        for (_, c) in b.range(key.minus_minutes(minutes as i64)..key.clone()) {
            sum.add(*c);
        }
        Ok(sum)
    }

    async fn incidents(&self, key: &SreKey) -> PortResult<Vec<Incident>> {
        let prefix = format!("{}#", key.dimensions());
        let m = self
            .incidents
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Ok(m.iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .map(|(_, i)| i.clone())
            .collect())
    }

    async fn open_incident(&self, i: &Incident) -> PortResult<bool> {
        let id = incident_id(&i.key, i.kind);
        self.faults.check(&id, "sre.open_incident")?;
        let mut m = self
            .incidents
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let blocked = m.get(&id).is_some_and(|c| {
            c.is_open() || c.resolved_minute_ms.unwrap_or(i64::MIN) >= i.key.minute_ms
        });
        if blocked {
            return Ok(false);
        }
        m.insert(id, i.clone());
        Ok(true)
    }

    async fn update_incident(&self, i: &Incident) -> PortResult<bool> {
        let id = incident_id(&i.key, i.kind);
        self.faults.check(&id, "sre.update_incident")?;
        let mut m = self
            .incidents
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match m.get_mut(&id) {
            Some(c) if c.is_open() && c.key.minute_ms == i.key.minute_ms => {
                *c = i.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

/// Records every page; fails while `faults` says so.
#[derive(Default)]
pub struct MemoryPager {
    pub pages: Mutex<Vec<Incident>>,
    pub faults: Faults,
}

impl IncidentPager for MemoryPager {
    async fn page(&self, i: &Incident) -> PortResult<()> {
        self.faults
            .check(&incident_id(&i.key, i.kind), "sre.page")?;
        self.pages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(i.clone());
        Ok(())
    }
}

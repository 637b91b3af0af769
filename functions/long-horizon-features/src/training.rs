//! The daily training build (the `training_*` actions): an Athena UNLOAD of a
//! day's arrivals partitioned by viewer bucket, then one slice per bucket
//! (offline_features::slices) continuing the bucket's state of the day
//! before, then a summary. README.md: the layout, the limits.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use lake::LakeRow;
use offline_features::runs::{self, Manifest};
use offline_features::slices::{self, Listing, SliceId};
use playback_domain::catalogue::Catalogue;
use playback_domain::long_horizon::{LongHorizonFeatures, RunHistory};
use playback_domain::ports::LongHorizonStore;
use playback_domain::training::TrainingState;
use serde_json::{json, Value};

use crate::{manifests_prefix, run_prefix, App, JobError, QueryStarter, RunObjects, FUNCTION};

/// The day's input query (its columns are the lake's, plus `bucket`).
pub const INPUTS_QUERY: &str = include_str!("../../../infra/athena/features/training_inputs.sql");

/// Athena writes at most 100 partitions per query.
pub const MAX_BUCKETS: u32 = 100;

/// `YYYY-MM-DD` as a date, or a bad-event error.
pub fn parse_day(day: &str) -> Result<NaiveDate, JobError> {
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map_err(|_| JobError::Event(format!("day {day:?} is not YYYY-MM-DD")))
}

/// The day a build at `now` makes: yesterday (UTC), whose arrivals are complete.
pub fn default_day(now: DateTime<Utc>) -> String {
    (now.date_naive() - Duration::days(1))
        .format("%Y-%m-%d")
        .to_string()
}

/// The UNLOAD of the day's input into `_inputs/day=<D>/bucket=<b>/`.
pub fn inputs_unload_sql(bucket_name: &str, day: &str, buckets: u32) -> Result<String, JobError> {
    let start = parse_day(day)?;
    let end = start + Duration::days(1);
    let ts = |d: NaiveDate| format!("{} 00:00:00.000", d.format("%Y-%m-%d"));
    let query = INPUTS_QUERY
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("{{day_start}}", &ts(start))
        .replace("{{day_end}}", &ts(end))
        .replace("{{buckets}}", &buckets.to_string());
    Ok(format!(
        "UNLOAD ({}) TO 's3://{bucket_name}/{}' WITH (format = 'PARQUET', compression = 'SNAPPY', partitioned_by = ARRAY['bucket'])",
        query.trim().trim_end_matches(';'),
        slices::inputs_prefix(day)
    ))
}

impl<Q: QueryStarter, O: RunObjects, S: LongHorizonStore + Sync> App<Q, O, S> {
    /// Empties the day's input prefix (UNLOAD needs it empty) and starts the UNLOAD.
    pub(crate) async fn training_start(
        &self,
        day: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Value, JobError> {
        let day = day.unwrap_or_else(|| default_day(now));
        let sql = inputs_unload_sql(&self.cfg.bucket, &day, self.cfg.training_buckets)?;
        let mut removed = 0;
        for key in self.objects.list(&slices::inputs_prefix(&day)).await? {
            self.objects.remove(&key).await?;
            removed += 1;
        }
        let query_id = self.athena.start(&sql).await?;
        tracing::info!(%day, %query_id, removed, "training inputs UNLOAD started");
        Ok(json!({"day": day, "query_id": query_id}))
    }

    /// Every bucket with its input files (a bucket with none still carries
    /// its state to the day).
    pub(crate) async fn training_list(&self, day: String) -> Result<Value, JobError> {
        parse_day(&day)?;
        let keys = self.objects.list(&slices::inputs_prefix(&day)).await?;
        let mut by_bucket: BTreeMap<u32, Vec<String>> = (0..self.cfg.training_buckets)
            .map(|b| (b, Vec::new()))
            .collect();
        for key in keys.into_iter().filter(|k| !k.ends_with('/')) {
            let bucket = (0..self.cfg.training_buckets)
                .find(|b| key.starts_with(&slices::input_bucket_prefix(&day, *b)))
                .ok_or_else(|| JobError::Event(format!("{key}: not under a bucket= prefix")))?;
            by_bucket.entry(bucket).or_default().push(key);
        }
        let items: Vec<Value> = by_bucket
            .into_iter()
            .map(|(bucket, keys)| json!({"bucket": bucket, "keys": keys}))
            .collect();
        Ok(json!({"day": day, "slices": items}))
    }

    /// The bucket's state after the day before: none on the bucket's first
    /// day; a gap (a later or earlier state, not the day before) fails.
    async fn state_before(&self, day: &str, bucket: u32) -> Result<TrainingState, JobError> {
        let prev = slices::previous_day(day)
            .ok_or_else(|| JobError::Event(format!("day {day:?} has no day before")))?;
        let key = slices::state_key(bucket, &prev);
        if self.objects.list(&key).await?.contains(&key) {
            let bytes = self.objects.read(&key).await?;
            return Ok(slices::decode_state(&bytes, &key)?);
        }
        let earlier = self.objects.list(&slices::state_prefix(bucket)).await?;
        let own = slices::state_key(bucket, day);
        match earlier.iter().filter(|k| **k < own).max() {
            None => Ok(TrainingState::default()),
            Some(last) => Err(JobError::Event(format!(
                "bucket {bucket}: no state for {prev} (the latest before {day} is {last}); build the missing days first, in order"
            ))),
        }
    }

    async fn manifests(&self) -> Result<Vec<Manifest>, JobError> {
        let mut out = Vec::new();
        for key in self.objects.list(&manifests_prefix()).await? {
            if !key.ends_with(".json") {
                continue;
            }
            let bytes = self.objects.read(&key).await?;
            out.push(serde_json::from_slice(&bytes).map_err(|source| {
                offline_features::OfflineError::Manifest { path: key, source }
            })?);
        }
        Ok(out)
    }

    /// The runs the labels are served from, with only the labels' viewers.
    async fn history_for(&self, labels: &[LakeRow]) -> Result<RunHistory, JobError> {
        let manifests = self.manifests().await?;
        let viewers = slices::label_viewers(labels);
        let mut loaded: BTreeMap<i64, Vec<LongHorizonFeatures>> = BTreeMap::new();
        for as_of in slices::needed_runs(labels, &manifests)? {
            let mut kept = Vec::new();
            for key in self.objects.list(&run_prefix(as_of)).await? {
                let run = runs::read_run(self.objects.read(&key).await?, as_of)?;
                kept.extend(
                    run.into_iter()
                        .filter(|f| viewers.contains(f.viewer_id.as_str())),
                );
            }
            loaded.insert(as_of, kept);
        }
        Ok(slices::history(&manifests, loaded))
    }

    async fn catalogue(&self) -> Result<Catalogue, JobError> {
        let prefix = &playback_topology::Topology::deployed()
            .lake
            .catalogue_prefix;
        let mut titles = Vec::new();
        for key in self.objects.list(prefix).await? {
            if key.ends_with(".parquet") {
                titles.extend(lake::read_titles(&self.objects.read(&key).await?)?);
            }
        }
        Ok(Catalogue::new(titles))
    }

    /// One bucket's slice of the day: its files, then its listing, then its
    /// state, so a crash anywhere is mended by running the slice again.
    pub(crate) async fn training_slice(
        &self,
        day: String,
        bucket: u32,
        keys: Vec<String>,
    ) -> Result<Value, JobError> {
        parse_day(&day)?;
        let prefix = slices::input_bucket_prefix(&day, bucket);
        if let Some(k) = keys.iter().find(|k| !k.starts_with(&prefix)) {
            return Err(JobError::Event(format!("key {k:?} is not under {prefix}")));
        }
        let mut state = self.state_before(&day, bucket).await?;
        // The inputs stay compressed in memory; each pass decodes its viewers'.
        let mut inputs = Vec::with_capacity(keys.len());
        for key in &keys {
            inputs.push(self.objects.read(key).await?);
        }
        let mut labels: Vec<LakeRow> = Vec::new();
        for bytes in &inputs {
            labels.extend(
                lake::read_rows(bytes)?
                    .into_iter()
                    .filter(|r| slices::is_label(&r.event_type)),
            );
        }
        let history = self.history_for(&labels).await?;
        drop(labels);
        let catalogue = self.catalogue().await?;
        let passes = self.cfg.training_passes;
        let mut listing = Listing {
            day: day.clone(),
            bucket,
            ..Listing::default()
        };
        for pass in 0..passes {
            let mut rows: Vec<LakeRow> = Vec::new();
            for bytes in &inputs {
                let decoded = lake::read_rows(bytes)?.into_iter();
                rows.extend(decoded.filter(|r| slices::pass_of(&r.viewer_id, passes) == pass));
            }
            let id = SliceId {
                day: &day,
                bucket,
                pass,
            };
            let slice = slices::build(&mut state, &rows, &catalogue, &history, id)?;
            for (key, bytes) in slice.files {
                self.objects.put(&key, bytes).await?;
            }
            listing.absorb(slice.listing);
        }
        let listing_key = slices::listing_key(&day, bucket);
        let before: Vec<String> = if self
            .objects
            .list(&listing_key)
            .await?
            .contains(&listing_key)
        {
            let bytes = self.objects.read(&listing_key).await?;
            serde_json::from_slice::<Listing>(&bytes)
                .map(|l| l.files)
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        for stale in before.iter().filter(|k| !listing.files.contains(*k)) {
            self.objects.remove(stale).await?;
        }
        self.objects
            .put(&listing_key, slices::encode_listing(&listing))
            .await?;
        self.objects
            .put(
                &slices::state_key(bucket, &day),
                slices::encode_state(&state),
            )
            .await?;
        Ok(serde_json::to_value(&listing).expect("a listing serialises"))
    }

    /// The day's totals, as the state machine's last step reports them.
    pub(crate) fn training_finish(
        &self,
        day: String,
        listings: Vec<Listing>,
        now: DateTime<Utc>,
    ) -> Result<Value, JobError> {
        let end = parse_day(&day)? + Duration::days(1);
        let end_ms = end
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
            .timestamp_millis();
        let sum = |f: fn(&Listing) -> usize| listings.iter().map(f).sum::<usize>();
        let (events, rows) = (sum(|l| l.events), sum(|l| l.rows));
        self.metrics.emit(
            &[("Function", FUNCTION), ("Action", "training_finish")],
            &[
                ("TrainingEvents", events as f64, "Count"),
                ("TrainingRows", rows as f64, "Count"),
                (
                    "TrainingLagSeconds",
                    ((now.timestamp_millis() - end_ms) / 1000) as f64,
                    "Seconds",
                ),
            ],
        );
        Ok(
            json!({"day": day, "slices": listings.len(), "events": events, "rows": rows,
                  "files": sum(|l| l.files.len())}),
        )
    }
}

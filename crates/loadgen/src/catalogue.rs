//! The generator's title catalogue as the lake's `playback.titles` file
//! (`--catalogue-out`): the same titles, genres and durations the sessions play.

use std::path::Path;

use playback_domain::catalogue::Title;

use crate::error::LoadgenError;
use crate::population::Population;
use crate::ScenarioConfig;

/// The catalogue of `cfg`'s population, by popularity rank.
pub fn titles(cfg: &ScenarioConfig) -> Vec<Title> {
    Population::new(cfg.seed, cfg.viewers as usize, cfg.titles as usize)
        .catalog
        .titles()
}

/// The catalogue of `cfg` as Parquet bytes (`lake::write_titles`).
pub fn parquet(cfg: &ScenarioConfig) -> Result<Vec<u8>, LoadgenError> {
    lake::write_titles(&titles(cfg)).map_err(|e| LoadgenError::Config(format!("catalogue: {e}")))
}

/// Writes the catalogue of `cfg` to `path` as Parquet; the number of titles.
pub fn write(cfg: &ScenarioConfig, path: &Path) -> Result<usize, LoadgenError> {
    let bytes = parquet(cfg)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| LoadgenError::io(dir, e))?;
    }
    std::fs::write(path, bytes).map_err(|e| LoadgenError::io(path, e))?;
    Ok(cfg.titles as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_catalogue_reads_back_as_the_generated_one() {
        let cfg = ScenarioConfig {
            titles: 30,
            ..Default::default()
        };
        let dir = std::env::temp_dir().join(format!("loadgen-catalogue-{}", std::process::id()));
        let path = dir.join("catalogue/titles/part-0.parquet");
        assert_eq!(write(&cfg, &path).unwrap(), 30);
        let back = lake::read_titles(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(back, titles(&cfg));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

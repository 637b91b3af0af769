//! The royalty SQL: the same files the Athena named queries are made of
//! (infra/athena/), embedded so the Lambda needs no checkout, with `{{name}}`
//! placeholders the job fills.

use crate::RoyaltyError;

/// The events a close pays (the rows of its ledger partition).
pub const ROYALTY_CLOSE_SQL: &str = include_str!("../../../infra/athena/royalty_close.sql");
/// A close's report, aggregated from its ledger partition.
pub const ROYALTY_REPORT_SQL: &str = include_str!("../../../infra/athena/royalty_report.sql");
/// The canonical table's current snapshot id (what a first close reads).
pub const CANONICAL_SNAPSHOT_SQL: &str =
    include_str!("../../../infra/athena/canonical_snapshot.sql");
/// Event_ids paid more than once (must be empty).
pub const ROYALTY_AUDIT_SQL: &str = include_str!("../../../infra/athena/royalty_audit.sql");
/// Athena DDL of the ledger table.
pub const ROYALTY_LEDGER_TABLE_SQL: &str =
    include_str!("../../../infra/athena/royalty_ledger_table.sql");

/// Table names as the SQL files spell them (Glue database `playback`).
pub const EVENTS_TABLE: &str = "playback.events_canonical";
pub const LEDGER_TABLE: &str = "playback.royalty_ledger";

/// Fills every `{{name}}` of `template`. Unknown, unused or unsafe parameters
/// are errors: a typo must not silently widen a close's scope.
pub fn render(template: &str, params: &[(&str, String)]) -> Result<String, RoyaltyError> {
    for (name, value) in params {
        if !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " _:./+-".contains(c))
        {
            return Err(RoyaltyError::Template(format!(
                "value of {name} ({value:?}) may only hold letters, digits, space and _:./+-"
            )));
        }
    }
    let mut used = vec![false; params.len()];
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| RoyaltyError::Template("unterminated {{".into()))?;
        let name = after[..end].trim();
        let i = params
            .iter()
            .position(|(n, _)| *n == name)
            .ok_or_else(|| RoyaltyError::Template(format!("no value for {{{{{name}}}}}")))?;
        used[i] = true;
        out.push_str(&params[i].1);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    if let Some(i) = used.iter().position(|u| !u) {
        return Err(RoyaltyError::Template(format!(
            "parameter {} is not used by the template",
            params[i].0
        )));
    }
    Ok(out)
}

/// Points the SQL at other tables (a Glue database/table other than
/// `playback.events_canonical`); only whole qualified names are replaced.
pub fn with_tables(sql: &str, events: &str, ledger: &str) -> String {
    let sql = replace_name(sql, LEDGER_TABLE, ledger);
    replace_name(&sql, EVENTS_TABLE, events)
}

fn replace_name(sql: &str, from: &str, to: &str) -> String {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(i) = rest.find(from) {
        let prev = rest[..i].chars().last().or_else(|| out.chars().last());
        let before_ok = !prev.is_some_and(ident);
        let after = &rest[i + from.len()..];
        let after_ok = !after.chars().next().is_some_and(ident);
        out.push_str(&rest[..i]);
        out.push_str(if before_ok && after_ok { to } else { from });
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_fills_every_placeholder() {
        let sql = render(
            "x = '{{a}}' AND y < '{{ b }}' -- {{a}}",
            &[
                ("a", "2026-01-02".into()),
                ("b", "2026-01-03 01:00:00".into()),
            ],
        )
        .unwrap();
        assert_eq!(
            sql,
            "x = '2026-01-02' AND y < '2026-01-03 01:00:00' -- 2026-01-02"
        );
    }

    #[test]
    fn render_rejects_missing_unused_and_unsafe_values() {
        assert!(matches!(
            render("{{a}}", &[]),
            Err(RoyaltyError::Template(_))
        ));
        let unused = render("{{a}}", &[("a", "1".into()), ("b", "2".into())]);
        assert!(unused.unwrap_err().to_string().contains("b is not used"));
        let quote = render("'{{a}}'", &[("a", "x' OR '1'='1".into())]);
        assert!(quote.is_err());
        assert!(render("{{a", &[("a", "1".into())]).is_err());
    }

    #[test]
    fn royalty_templates_render_with_the_close_parameters() {
        let p = crate::CloseParams::new(chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(), 1, 1);
        let mut params = p.close_sql_params();
        params.push(("snapshot_id", "42".into()));
        let close = render(ROYALTY_CLOSE_SQL, &params).unwrap();
        assert!(close.contains("events_canonical FOR VERSION AS OF 42"));
        assert!(close.contains("ingest_time >= CAST('2026-03-01 00:00:00' AS TIMESTAMP)"));
        assert!(close.contains("ingest_time < CAST('2026-03-03 01:00:00' AS TIMESTAMP)"));
        assert!(close.contains("event_time < CAST('2026-03-03 00:00:00' AS TIMESTAMP)"));
        assert!(close.contains("close_id < '2026-03-02' AND close_id >= '0001-01-01'"));
        assert!(!close.contains("{{"));
        let report = render(ROYALTY_REPORT_SQL, &p.report_sql_params()).unwrap();
        assert!(report.contains("close_id = '2026-03-02'"));
        let ddl = render(
            ROYALTY_LEDGER_TABLE_SQL,
            &[("ledger_location", "s3://b/royalty/ledger/".into())],
        )
        .unwrap();
        assert!(ddl.contains("LOCATION 's3://b/royalty/ledger/'"));
    }

    #[test]
    fn table_names_are_replaced_only_whole() {
        let sql =
            "FROM playback.events_canonical e JOIN playback.royalty_ledger l, playback.events";
        assert_eq!(
            with_tables(sql, "lake.exact", "lake.paid"),
            "FROM lake.exact e JOIN lake.paid l, playback.events"
        );
    }
}

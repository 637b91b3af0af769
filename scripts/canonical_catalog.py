"""The canonical Iceberg table `playback.events_canonical`: where its catalog and
warehouse live, its schema and partitioning. Shared by scripts/canonical.py (the
job that writes it) and scripts/lake_query.py (which exposes it to SQL).

Locations (a pyiceberg SQL catalog in a sqlite file, as the AWS side's Glue):
  --lake-dir DIR  catalog DIR/canonical/catalog.db, warehouse DIR/canonical/
  S3 (emulator)   catalog .run/canonical/<bucket>.db (CANONICAL_CATALOG overrides),
                  warehouse s3://<bucket>/canonical/
"""
from __future__ import annotations

import json
import os
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAMESPACE = "playback"
TABLE = "events_canonical"
IDENTIFIER = f"{NAMESPACE}.{TABLE}"
# Snapshot summary keys the job writes: its progress lives in the commit itself.
WATERMARK_KEY = "playback.watermark"
# No commit retries: pyiceberg would rebase a failed append onto the concurrent
# run's snapshot and so commit the same window twice; the watermark read must
# still be current at commit time (a compare-and-swap), else the run fails.
TABLE_PROPERTIES = {"format-version": "2", "write.parquet.compression-codec": "zstd",
                    "commit.retry.num-retries": "0"}


def chaos(point: str) -> None:
    """A crash, not an exception: no finally, no cleanup, as a killed process
    (PLAYBACK_CHAOS_POINTS=point,...)."""
    if point in os.environ.get("PLAYBACK_CHAOS_POINTS", "").split(","):
        import signal
        import sys

        print(f"chaos-point {point}", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)


class CatalogError(Exception):
    """A failure reported to the user as one line."""


def raw_columns() -> list[tuple[str, str]]:
    """(name, glue type) of the raw lake's columns, partition keys excluded."""
    cols = json.loads((ROOT / "events" / "lake-columns.json").read_text())["columns"]
    return [(c["name"], c["type"]) for c in cols]


def iceberg_schema(columns: list[tuple[str, str]] | None = None):
    """An Iceberg schema of (name, glue type) columns; default the raw lake's."""
    from pyiceberg.schema import Schema
    from pyiceberg.types import IntegerType, LongType, NestedField, StringType, TimestamptzType

    types = {"string": StringType, "bigint": LongType, "int": IntegerType, "timestamp": TimestamptzType}
    # All optional: the raw log's columns are nullable, and a required column
    # could never be added later by schema evolution without a default.
    cols = raw_columns() if columns is None else columns
    return Schema(*[NestedField(i + 1, n, types[t](), required=False) for i, (n, t) in enumerate(cols)])


def partition_spec(schema, source: str = "event_time"):
    """Partitioned by the UTC day of `source`."""
    from pyiceberg.partitioning import PartitionField, PartitionSpec
    from pyiceberg.transforms import DayTransform

    field = schema.find_field(source).field_id
    return PartitionSpec(PartitionField(source_id=field, field_id=1000, transform=DayTransform(), name="event_day"))


def locations(lake_dir: str | None, bucket: str) -> tuple[Path, str]:
    """(sqlite catalog file, warehouse URL)."""
    if lake_dir:
        base = Path(lake_dir).resolve() / "canonical"
        return base / "catalog.db", base.as_uri()
    state = Path(os.environ.get("EMULATOR_STATE", ROOT / ".run"))
    db = Path(os.environ.get("CANONICAL_CATALOG", state / "canonical" / f"{bucket}.db"))
    return db, f"s3://{bucket}/canonical"


def s3_properties(endpoint: str | None) -> dict[str, str]:
    if not endpoint:
        return {}
    u = urllib.parse.urlsplit(endpoint)
    return {
        "s3.endpoint": f"{u.scheme}://{u.netloc}",
        "s3.access-key-id": os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        "s3.secret-access-key": os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        "s3.region": os.environ.get("AWS_REGION", "us-east-1"),
        # Path-style requests: an emulator on an IP or localhost has no bucket subdomains.
        "s3.force-virtual-addressing": "false",
    }


def open_catalog(lake_dir: str | None, bucket: str, endpoint: str | None, create: bool):
    """The SQL catalog, or None when it does not exist and create is False."""
    from pyiceberg.catalog.sql import SqlCatalog

    db, warehouse = locations(lake_dir, bucket)
    if not db.exists():
        if not create:
            return None
        db.parent.mkdir(parents=True, exist_ok=True)
    return SqlCatalog(NAMESPACE, uri=f"sqlite:///{db}", warehouse=warehouse, **s3_properties(endpoint))


def load_table(catalog, create: bool):
    """The table, created (empty, no snapshot) if asked; None if absent."""
    from pyiceberg.exceptions import NoSuchTableError

    try:
        table = catalog.load_table(IDENTIFIER)
    except NoSuchTableError:
        if not create:
            return None
        catalog.create_namespace_if_not_exists(NAMESPACE)
        schema = iceberg_schema()
        table = catalog.create_table_if_not_exists(
            IDENTIFIER, schema=schema, partition_spec=partition_spec(schema),
            properties=TABLE_PROPERTIES)
    except (FileNotFoundError, OSError) as e:
        # The sqlite file outlived the emulator that held the metadata.
        raise CatalogError(f"{IDENTIFIER}: metadata unreadable ({str(e).splitlines()[0]}); "
                           "if the emulator was restarted: make canonical CANONICAL_ARGS=--reset") from None
    if create and table.properties.get("commit.retry.num-retries") != "0":
        with table.transaction() as tx:  # a table made elsewhere: make commits fail, not rebase
            tx.set_properties({"commit.retry.num-retries": "0"})
    return table


def evolve_schema(table) -> list[str]:
    """Adds the lake columns the table lacks (a table made by an older release:
    startup_ms came with schema_version 2). A metadata commit only: data files
    stay as they are, old rows read the new columns as NULL, and a snapshot made
    before keeps its own schema for time travel. Returns the names added."""
    want = iceberg_schema()
    have = {f.name for f in table.schema().fields}
    missing = [f.name for f in want.fields if f.name not in have]
    if missing:
        with table.update_schema() as update:
            update.union_by_name(want)
    return missing


def drop_entry(catalog) -> None:
    """Forgets the table in the catalog (files stay): for a catalog whose emulator is gone."""
    from pyiceberg.exceptions import NoSuchTableError

    try:
        catalog.drop_table(IDENTIFIER)
    except NoSuchTableError:
        pass


def watermark(table) -> str | None:
    """The arrival watermark of the last job commit in the current snapshot's history
    (None: none yet). Walks back: a compaction or another writer's snapshot carries none."""
    from pyiceberg.table.snapshots import ancestors_of

    for snap in ancestors_of(table.current_snapshot(), table.metadata):
        mark = snap.summary.additional_properties.get(WATERMARK_KEY) if snap.summary else None
        if mark:
            return mark
    return None


def resolve_snapshot(table, as_of: str):
    """A snapshot by id (digits) or as of a UTC timestamp (ISO / 'YYYY-MM-DD HH:MM:SS')."""
    import datetime

    if as_of.isdigit():
        snap = table.snapshot_by_id(int(as_of))
        if snap is None:
            raise CatalogError(f"AS_OF={as_of}: no such snapshot in {IDENTIFIER}")
        return snap
    try:
        ts = datetime.datetime.fromisoformat(as_of.replace("Z", "+00:00"))
    except ValueError:
        raise CatalogError(f"AS_OF={as_of!r}: expected a snapshot id or a UTC timestamp") from None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=datetime.timezone.utc)
    snap = table.snapshot_as_of_timestamp(int(ts.timestamp() * 1000))
    if snap is None:
        raise CatalogError(f"AS_OF={as_of}: {IDENTIFIER} has no snapshot at or before it")
    return snap

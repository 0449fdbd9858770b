"""The warehouse schema: the one contract between the ETL (writer) and the screens (reader).

Migrations in ``etl/warehouse/migrations`` create exactly these tables; a test checks they agree.
Geometry is stored as WKB in WGS-84 (EPSG:4326), the canonical CRS; see ``geo.crs``.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

LEVELS = ("province", "city", "county", "township", "village")
BOUNDARY_SURVEYED = "surveyed"
BOUNDARY_SCHEMATIC = "schematic"

regions = Table(
    "regions",
    metadata,
    Column("code", String(12), primary_key=True, comment="12-digit statistical division code"),
    Column("name", String(100), nullable=False),
    Column("level", String(10), nullable=False, index=True),
    Column("parent_code", String(12), index=True),
    Column("households", Integer),
    Column("population", Integer),
    Column("geometry", LargeBinary, comment="WKB, WGS-84"),
    Column("boundary", String(10), comment="surveyed | schematic | NULL when no polygon"),
    Column("centroid_lon", Float),
    Column("centroid_lat", Float),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

warehouse_version = Table(
    "warehouse_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(200), nullable=False, comment="feed name or command"),
    Column("location", Text, nullable=False, comment="file and row, feature or message"),
    Column("field", String(100)),
    Column("reason", Text, nullable=False),
    Column("raw", Text, comment="the rejected input as JSON"),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

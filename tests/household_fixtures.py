"""Households, codes and intake rows for tests: a household of a village with a code, a case of each village for
the scope sweep, a photo, and the feeds that carry the intake into a warehouse."""

from __future__ import annotations

import io
import secrets
from pathlib import Path

from PIL import Image

from etl.demo.build import DEMO_DIR
from etl.feeds import load_feeds
from etl.warehouse.household_tokens import Household, household, issue
from etl.warehouse.intake import Limits
from etl.warehouse.intake_cases import submit
from etl.warehouse.intake_files import Upload

INTAKE_FEEDS = (
    "qr_cases",
    "office_notices",
    "office_deliberations",
    "office_supervision",
    "qr_redemptions",
    "office_catalogue",
)


def jpeg(width: int = 64, height: int = 48, colour: str = "orange", exif: bytes | None = None) -> bytes:
    """A small photo (JPEG), optionally with EXIF metadata."""
    out = io.BytesIO()
    image = Image.new("RGB", (width, height), colour)
    image.save(out, "JPEG", **({"exif": exif} if exif else {}))
    return out.getvalue()


def coded(engine, code: str) -> tuple[Household, str]:
    """A household of the warehouse with a fresh code: (the household, its token)."""
    with engine.begin() as connection:
        found = household(connection, code)
        return found, issue(connection, found, "test")


def add_case(engine, village: str, case_household: str, uploads_dir: str, text: str = "路灯坏了好几天") -> str:
    """A 诉求 (with a photo) of a household in a village, as its page would send it; its case id."""
    found = Household(case_household, village, "", None, None, None)
    form = {"topic": "roads", "text": text, "key": secrets.token_hex(16)}
    photo = Upload("p.jpg", "image/jpeg", jpeg())
    case_id, _ = submit(engine, found, form, photo=photo, uploads_dir=uploads_dir, address=None, limits=Limits())
    return case_id


def intake_feeds(var_dir: Path, warehouse_url: str) -> dict:
    """The demo's intake feeds, reading the intake tables of ``warehouse_url``."""
    text = (DEMO_DIR / "feeds.toml").read_text(encoding="utf-8")
    text = text.replace('url = "sqlite:///{var_dir}/warehouse.db"', f'url = "{warehouse_url}"')
    path = var_dir / "intake-feeds.toml"
    path.write_text(text, encoding="utf-8")
    feeds = load_feeds(path, {"var_dir": str(var_dir), "sim_port": "1"})
    return {name: feeds[name] for name in INTAKE_FEEDS}


def sweep_cases(engine, uploads_dir: str, villages: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """A 诉求 with a photo in each village: (case id by village, photo's file id by village)."""
    from etl.warehouse.intake_files import files_of

    cases = {code: add_case(engine, code, f"SWEEP-{code[-6:]}", uploads_dir) for code in villages}
    with engine.connect() as connection:
        files = {code: files_of(connection, "case", [case])[case][0]["file_id"] for code, case in cases.items()}
    return cases, files

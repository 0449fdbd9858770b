"""Household codes (一户一码): a random token per household, kept only as its hash, issued again to revoke the old
one; and the household a token opens (its village, 门牌, 组, head's name for masking)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, bindparam, select

from etl.warehouse.accounts import record
from etl.warehouse.schema import household_tokens, households, regions
from etl.warehouse.screens import token_hash, upsert_for

# 16 random bytes: unguessable, and short enough for a small QR code on a door label.
TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}\Z")


@dataclass(frozen=True)
class Household:
    """A household as its page and its label show it."""

    code: str
    village: str
    village_name: str
    head_name: str | None
    door_plate: str | None
    group: str | None


_HOUSEHOLD = select(
    households.c.household_code,
    households.c.region_code,
    regions.c.name,
    households.c.head_name,
    households.c.door_plate,
    households.c.village_group,
).join(regions, regions.c.code == households.c.region_code)


def _household(row) -> Household:
    return Household(*row)


def household(connection: Connection, code: str) -> Household | None:
    """The household of a household code, or None."""
    row = connection.execute(_HOUSEHOLD.where(households.c.household_code == code)).first()
    return _household(row) if row else None


def village_households(connection: Connection, village: str) -> list[Household]:
    """Every household of a village, by group and door plate (the order labels are handed out in)."""
    query = _HOUSEHOLD.where(households.c.region_code == village).order_by(
        households.c.village_group, households.c.door_plate, households.c.household_code
    )
    return [_household(row) for row in connection.execute(query)]


def issue(connection: Connection, found: Household, actor: str | None = None, now: datetime | None = None) -> str:
    """A new token for a household (any earlier one stops working at once); returns it: it is stored only as its
    hash, so this is the one moment it can be printed."""
    token = secrets.token_urlsafe(16)
    row = {
        "household_code": found.code,
        "region_code": found.village,
        "token_hash": token_hash(token),
        "issued_at": now or datetime.now(UTC),
        "issued_by": actor,
    }
    statement = upsert_for(connection.dialect.name, household_tokens).values(**row)
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=["household_code"],
            set_={key: statement.excluded[key] for key in row if key != "household_code"},
        )
    )
    record(connection, "household_code", actor, None, f"为户 {found.code}（{found.village}）签发新的户码")
    return token


def with_codes(connection: Connection, village: str) -> set[str]:
    """The household codes of a village that have a code issued."""
    query = select(household_tokens.c.household_code).where(household_tokens.c.region_code == village)
    return set(connection.execute(query).scalars())


# Built once: every request of a household's page starts with it.
_BY_TOKEN = _HOUSEHOLD.join(household_tokens, household_tokens.c.household_code == households.c.household_code).where(
    household_tokens.c.token_hash == bindparam("hash")
)


def household_of(connection: Connection, token: str) -> Household | None:
    """The household a token opens, or None for a malformed, unknown or revoked one."""
    if not isinstance(token, str) or not TOKEN.match(token):
        return None
    row = connection.execute(_BY_TOKEN, {"hash": token_hash(token)}).first()
    return _household(row) if row else None

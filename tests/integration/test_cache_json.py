"""JSON, not pickle, in the screens' cache: every value round-trips exactly, the filesystem cache holds only
JSON after the screens drew themselves, and a pickle planted in it is never run (Redis: test_cache_redis.py)."""

from __future__ import annotations

import pickle
import struct
import time
from datetime import UTC, date, datetime
from decimal import Decimal

import orjson
import pytest

from dashboard.app import create_app
from etl.demo.sample import BOARD_VILLAGE, TOWNSHIP, build_sample
from tests.dash_requests import page

pytestmark = pytest.mark.integration


class Planted:
    """What an attacker with write access to the cache would store: unpickling it creates a file."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_values_round_trip_exactly():
    from dashboard.codec import decode, encode

    moment = datetime(2026, 12, 6, 8, 30, 15, 123456, tzinfo=UTC)
    value = {
        "path": [("990101000000", "示范县"), ("990101001000", "城关街道")],
        "latest": {"cod": (moment, 41.5), "aqi": (datetime(2026, 1, 1, 0, 0), None)},
        "day": date(2026, 12, 6),
        "amount": Decimal("26268.75"),
        "nan": float("nan"),
        "inf": float("-inf"),
        "counts": {3: "three", ("a", 1): [True, False, None]},
        "$tricky": {"$t": [1, 2]},
        "nested": [[1, 2.5, "三"], {"deep": ({"x": 1},)}],
    }
    back = decode(encode(value))
    assert repr(back) == repr(value)  # nan != nan, so compared by repr: same types, same values
    assert type(back["path"][0]) is tuple and back["latest"]["cod"][0].tzinfo is UTC
    assert type(back["day"]) is date and type(back["amount"]) is Decimal
    assert orjson.loads(encode(value))  # plain JSON text
    with pytest.raises(TypeError):
        encode({"set": {1, 2}})
    with pytest.raises(TypeError):
        encode(Planted("x"))


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """The sample's screens drawn once (county, township, village, board, stop), so the cache is full."""
    var_dir = tmp_path_factory.mktemp("cache-var")
    app = create_app(build_sample(var_dir))
    client = app.server.test_client()
    for pathname, search in [
        ("/screen/county", ""),
        ("/screen/county", f"?region={TOWNSHIP}"),
        ("/screen/county", f"?region={BOARD_VILLAGE}"),
        (f"/board/{BOARD_VILLAGE}", ""),
        ("/stop/S01", ""),
    ]:
        answer = client.post("/_dash-update-component", json=page(pathname, search))
        assert answer.status_code == 200
        answer.close()  # the answers computed are written to the cache once the response is done
    return app, var_dir


def test_the_file_cache_holds_json_only(drawn):
    from dashboard.codec import decode

    _app, var_dir = drawn
    files = list((var_dir / "cache").iterdir())
    assert len(files) > 20
    for path in files:
        data = path.read_bytes()
        struct.unpack("I", data[:4])  # the entry's expiry, then the value
        assert not data[4:].startswith(b"\x80"), f"{path.name} is a pickle"
        decode(data[4:])


def test_a_pickle_planted_in_the_file_cache_is_never_run(drawn, tmp_path):
    app, var_dir = drawn
    marker = tmp_path / "ran"
    planted = pickle.dumps(Planted(str(marker)))
    for path in (var_dir / "cache").iterdir():
        path.write_bytes(struct.pack("I", int(time.time()) + 3600) + planted)
    client = app.server.test_client()
    for pathname in ("/screen/county", f"/board/{BOARD_VILLAGE}", "/stop/S01"):
        answer = client.post("/_dash-update-component", json=page(pathname))
        assert answer.status_code == 200  # the entries read as misses: computed again
        answer.close()
    assert not marker.exists(), "a pickle from the cache was run in the web worker"

"""An answer computed inside another's computation (a screen's queries inside its content) is stored once the
response is sent; the answer others wait for is stored at once. Against the real file cache and a real warehouse."""

from __future__ import annotations

import pytest
from flask import Flask, jsonify

from dashboard import cache as cache_module
from etl.warehouse.db import make_engine, migrate

pytestmark = pytest.mark.integration


def _entries(folder) -> int:
    return sum(1 for path in folder.iterdir() if not path.name.endswith(".__wz_cache"))


@pytest.fixture
def served(tmp_path, monkeypatch):
    """(test client, cache folder, what the view saw): a view asking for an outer answer made of an inner one."""
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(engine)
    folder = tmp_path / "cache"
    app = Flask(__name__)
    shared = cache_module.Cache()
    shared.init_app(app, config={"CACHE_TYPE": "dashboard.filecache.SweptFileSystemCache", "CACHE_DIR": str(folder)})
    monkeypatch.setattr(cache_module, "cache", shared)

    @cache_module.versioned
    def inner_answer(engine, scope: str) -> dict:
        return {"scope": scope, "n": 2}

    @cache_module.versioned
    def outer_answer(engine, scope: str) -> dict:
        return {"inner": inner_answer(engine, scope)}

    seen = {}

    @app.route("/answer")
    def answer():
        found = outer_answer(engine, "990101000000")
        seen["entries while answering"] = _entries(folder)
        return jsonify(found)

    return app.test_client(), folder, seen


def test_inner_answers_are_stored_after_the_response_and_the_outer_one_at_once(served):
    client, folder, seen = served
    response = client.get("/answer")
    assert response.json == {"inner": {"scope": "990101000000", "n": 2}}
    assert seen["entries while answering"] == 1  # the outer answer, which other workers may be waiting for
    response.close()  # the server has sent the body
    assert _entries(folder) == 2
    again = client.get("/answer")
    again.close()
    assert again.json == response.json and _entries(folder) == 2


def test_a_request_context_that_sends_no_response_stores_them_when_asked(served):
    # The warm-up draws the screen in a request context no response leaves: it stores them itself.
    client, folder, _seen = served
    app = client.application
    with app.test_request_context("/answer"):
        app.view_functions["answer"]()
        cache_module.store_pending()
    assert _entries(folder) == 2

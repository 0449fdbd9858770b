"""便民服务: the services file (bad ones named with file and key) and QR codes that scan back to the URL."""

from __future__ import annotations

import io

import pytest
import segno

from dashboard.services import ServicesError, load_services, qr_data_uri


def test_the_demo_services_are_the_seven_the_boards_offer():
    services = load_services()
    assert [s.label for s in services] == ["订家宴", "问律师", "找工作", "看医生", "要帮助", "打复印", "换积分"]
    assert services[0].url_for("990101001001") == "https://fuwu.example.cn/banquet?village=990101001001"


def test_a_bad_services_file_is_named_with_its_key(tmp_path):
    path = tmp_path / "services.toml"
    path.write_text('[services.lawyer]\nlabel = "问律师"\n', encoding="utf-8")
    with pytest.raises(ServicesError, match=r"services.toml: services.lawyer needs a label and a url"):
        load_services(str(path))
    path.write_text('[services.lawyer]\nlabel = "问律师"\nurl = "javascript:alert(1)"\n', encoding="utf-8")
    load_services.cache_clear()
    with pytest.raises(ServicesError, match=r"services.lawyer.url 'javascript:alert\(1\)' is not a link"):
        load_services(str(path))
    path.write_text("[services\n", encoding="utf-8")
    load_services.cache_clear()
    with pytest.raises(ServicesError, match="services.toml"):
        load_services(str(path))


def test_a_qr_code_scans_back_to_its_address():
    zxingcpp = pytest.importorskip("zxingcpp", reason="zxing-cpp (a dev dependency) is not installed")
    image_module = pytest.importorskip("PIL.Image", reason="pillow (a dev dependency) is not installed")
    url = "https://fuwu.example.cn/jobs?village=990101001001"
    assert qr_data_uri(url).startswith("data:image/svg+xml")
    png = io.BytesIO()
    segno.make(url, error="m", micro=False).save(png, kind="png", scale=8, border=4)
    found = zxingcpp.read_barcodes(image_module.open(io.BytesIO(png.getvalue())))
    assert [code.text for code in found] == [url]


def test_a_qr_code_is_drawn_once_for_every_worker_sharing_the_cache(tmp_path, monkeypatch):
    """A fresh worker (its own memory empty) finds the codes another worker drew in the shared cache."""
    from flask import Flask

    import dashboard.services as services
    from dashboard.cache import cache

    drawn = []
    draw = services._qr_svg
    monkeypatch.setattr(services, "_qr_svg", lambda url: drawn.append(url) or draw(url))
    app = Flask("qr-workers")
    cache.init_app(app, config={"CACHE_TYPE": "dashboard.filecache.SweptFileSystemCache", "CACHE_DIR": str(tmp_path)})
    url = "https://fuwu.example.cn/jobs?village=990101001002"
    qr_data_uri.cache_clear()
    with app.app_context():
        first = qr_data_uri(url)
    qr_data_uri.cache_clear()  # another worker: nothing in its memory
    with app.app_context():
        assert qr_data_uri(url) == first
    assert drawn == [url]
    qr_data_uri.cache_clear()
    assert qr_data_uri(url) == first  # outside the app (the CLI): drawn directly
    assert drawn == [url, url]
    qr_data_uri.cache_clear()

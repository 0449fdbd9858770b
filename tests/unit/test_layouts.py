"""Screen profiles: discovered from files, every panel on its canvas, bad files named."""

import pytest

from layouts import profiles as registry
from layouts.profiles import ProfileError, _profile


def test_the_shipped_county_profiles():
    found = registry.profiles()
    assert {"county-1080p", "county-4k", "county-wide"} <= set(found)
    assert (found["county-1080p"].width, found["county-1080p"].height) == (1920, 1080)
    assert found["county-wide"].width / found["county-wide"].height == pytest.approx(32 / 9)
    for profile in found.values():
        assert {"map", "governance", "industry", "livelihood", "environment", "security"} <= {
            p.name for p in profile.panels
        }
        assert profile.orientation == "landscape"


def test_a_panel_outside_its_canvas_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('title = "x"\ncanvas = { width = 100, height = 100 }\n[panels]\nmap = [50, 50, 60, 10]\n')
    with pytest.raises(ProfileError, match="bad.toml: panel 'map' lies outside"):
        _profile(path)
    path.write_text('title = "x"\n')
    with pytest.raises(ProfileError, match="bad.toml: missing or malformed 'canvas'"):
        _profile(path)

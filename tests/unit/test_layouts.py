"""Screen profiles: discovered from files, every panel on its canvas, bad files named."""

import pytest

from layouts import profiles as registry
from layouts.profiles import ProfileError, _profile


def test_the_shipped_county_profiles():
    found = registry.profiles()
    assert {"county-1080p", "county-4k", "county-wide"} <= set(found)
    assert (found["county-1080p"].width, found["county-1080p"].height) == (1920, 1080)
    assert found["county-wide"].width / found["county-wide"].height == pytest.approx(32 / 9)
    for profile in (p for p in found.values() if p.kind == "county"):
        assert {"map", "governance", "industry", "livelihood", "environment", "security"} <= {
            p.name for p in profile.panels
        }
        assert profile.orientation == "landscape"


def test_every_profile_is_its_design_drawn_at_a_scale_onto_the_display():
    found = registry.profiles()
    wall = found["county-4k"]
    # The 1080p design at ×2: the same panels, so text of 14 design px is 28 px on the wall, its minimum.
    assert (wall.width, wall.height, wall.scale) == (3840, 2160, 2)
    assert (wall.design_width, wall.design_height) == (1920, 1080)
    assert wall.panels == found["county-1080p"].panels and wall.min_font_px == 14 * wall.scale
    wide = found["county-wide"]
    assert (wide.design_width * wide.scale, wide.design_height * wide.scale) == (wide.width, wide.height)
    upright = found["stop-portrait"]
    assert (upright.width, upright.height, upright.orientation, upright.kind) == (1080, 1920, "portrait", "stop")


def test_a_scale_that_does_not_divide_the_canvas_is_an_error(tmp_path):
    path = tmp_path / "odd.toml"
    path.write_text('title = "x"\ncanvas = { width = 1000, height = 1000 }\nscale = 3\n')
    with pytest.raises(ProfileError, match="odd.toml: scale 3.0 does not divide"):
        _profile(path)


def test_a_panel_outside_its_canvas_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('title = "x"\ncanvas = { width = 100, height = 100 }\n[panels]\nmap = [50, 50, 60, 10]\n')
    with pytest.raises(ProfileError, match="bad.toml: panel 'map' lies outside"):
        _profile(path)
    path.write_text('title = "x"\n')
    with pytest.raises(ProfileError, match="bad.toml: missing or malformed 'canvas'"):
        _profile(path)


def test_the_shipped_board_and_stop_profiles():
    found = registry.profiles()
    portrait, landscape, stop = found["board-portrait"], found["board-landscape"], found["stop-landscape"]
    assert (portrait.width, portrait.height, portrait.orientation) == (1080, 1920, "portrait")
    assert (landscape.width, landscape.height, landscape.orientation) == (1920, 1080, "landscape")
    assert {portrait.kind, landscape.kind, stop.kind} == {"board", "stop"}
    assert "services" in portrait.slides and "finance" in landscape.slides
    # Read from 3 m: boards never print below 40 canvas px, stops (read in passing) even larger.
    assert portrait.min_font_px >= 40 and stop.min_font_px > portrait.min_font_px


def test_profile_for_falls_back_to_the_first_profile_of_the_kind():
    assert registry.profile_for("board", "board-landscape").name == "board-landscape"
    assert registry.profile_for("board", "county-4k").kind == "board"
    assert registry.profile_for("stop", None).kind == "stop"


def test_every_slide_a_board_profile_names_exists():
    from dashboard.slides import slides

    for profile in registry.profiles().values():
        assert set(profile.slides) <= set(slides()), f"{profile.name} names an unknown slide"

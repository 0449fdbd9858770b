"""Click's own words in Chinese: its usage lines, errors and help option, from the catalog in etl/locale.

Click marks every message it prints with the standard library's ``gettext``, the way it documents translating
it; the catalog holds a Chinese text for each (``ruralbrain.po``, compiled to ``ruralbrain.mo`` beside it).
``python -m etl.cli_language`` compiles it again after an edit (with Babel, a development dependency).
"""

from __future__ import annotations

import gettext
import os
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "ruralbrain"
LANGUAGE = "zh_CN"
CATALOG = LOCALE_DIR / LANGUAGE / "LC_MESSAGES" / f"{DOMAIN}.po"


def speak_chinese() -> None:
    """Make the process's gettext, and so click, answer from the Chinese catalog whatever the machine's locale."""
    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(DOMAIN)
    # gettext chooses the language from the environment on every lookup; the whole command line speaks Chinese
    # (servers often run with LANG=C), so it is set for this process rather than left to the operator's locale.
    os.environ["LANGUAGE"] = LANGUAGE
    _name_types_in_chinese()


# click's own (English) name of each of its parameter types, kept when they are named in Chinese.
_TYPE_NAMES: dict[type, str] = {}


def type_names() -> dict[type, str]:
    """click's parameter types (integer, integer range, float …), each with click's own English name."""
    import click.types

    for kind in vars(click.types).values():
        if isinstance(kind, type) and isinstance(kind.__dict__.get("name"), str):
            _TYPE_NAMES.setdefault(kind, kind.__dict__["name"])
    return dict(_TYPE_NAMES)


def _name_types_in_chinese() -> None:
    """Give click's parameter types their names from the catalog."""
    # click puts a type's name into its errors ('abc' is not a valid integer.) and help (--port INTEGER) without
    # marking it for gettext: it is a class attribute, set here once the catalog is installed.
    for kind, name in type_names().items():
        kind.name = gettext.gettext(name)


def compiled(catalog_file: Path = CATALOG) -> bytes:
    """The .mo bytes of a .po catalog, as Babel compiles it."""
    from io import BytesIO

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(catalog_file, "rb") as handle:
        catalog = read_po(handle)
    output = BytesIO()
    write_mo(output, catalog)
    return output.getvalue()


if __name__ == "__main__":
    target = CATALOG.with_suffix(".mo")
    target.write_bytes(compiled())
    print(f"已生成 {target.relative_to(LOCALE_DIR.parent.parent)}")

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

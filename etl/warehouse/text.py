"""Characters free text loses before it is kept or shown: control characters and invisible format characters. Here
(in etl.warehouse) so that the intake, which writes what people type, and the dashboard's masking share one set."""

from __future__ import annotations

import re

# Invisible format characters (zero-width spaces and joiners, word joiners, byte-order marks, soft hyphens and the
# bidi embeddings, overrides and isolates): between two digits they hid a phone number from the masking, and a
# right-to-left override made a case's 已办结 read 结办已 on the screens or a callback number read backwards.
INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]")
# C0 and C1 controls but the line feed (a tab is made a space first): an ANSI escape or a bell typed or pasted into
# a form reached the clerk's page and the township's terminal as it was.
CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def clean_text(text: str) -> str:
    """``text`` with its line ends made \\n, tabs made spaces, and control and invisible format characters removed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return INVISIBLE.sub("", CONTROLS.sub("", text))

"""Printing text from outside (provider responses, batch files, editors' files) safely.

Such text reaches the terminal in tables, notes and error lines. Two things in it must stay
inert: rich markup and emoji codes (a GPU name containing ``[/bold]`` once crashed every
nightly after the data was stored), and terminal control sequences (an escape sequence in a
provider's error message could clear the screen, move the cursor or retitle the window, and
so hide or fake the report). Control characters are shown as visible escapes instead.
"""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console
from rich.text import Text

# C0 controls except tab and newline, DEL, and C1 controls (ESC's 8-bit forms among them).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` with every terminal control character written as a visible escape (``\\x1b``)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class InertConsole(Console):
    """A rich console for which every string is plain text: no markup, no emoji codes,
    no control characters. Styling is given explicitly (``style=``), never in the text."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**{"highlight": False, **options, "markup": False, "emoji": False})

    def render_str(self, text: str, **options: Any) -> Text:
        options["markup"] = False  # even where a caller asks for it: the text may be outside
        options["emoji"] = False
        return super().render_str(printable(text), **options)

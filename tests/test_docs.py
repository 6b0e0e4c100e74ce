"""The README's tables of verdict codes and station options are the code's: every code
with its meaning, every option with its default (integrators read them there)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from station import options as opts
from station.codes import DESCRIPTIONS, Code

README = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")


def test_the_readme_lists_every_verdict_code_with_its_meaning() -> None:
    rows = re.findall(r"^\| `([A-Z0-9_]+)` \| (.+) \|$", README, re.MULTILINE)
    assert rows == [(code.value, DESCRIPTIONS[code]) for code in Code]


def test_the_readme_lists_every_option_with_its_default() -> None:
    rows = re.findall(r"^\| `([a-z_]+)` \| `(.+?)` \| .+ \|$", README, re.MULTILINE)
    assert [(key, json.loads(default)) for key, default in rows] == [
        (key, option.default) for key, option in opts.OPTIONS.items()
    ]

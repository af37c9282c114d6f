"""Print pip constraints pinning every requirement of pyproject.toml with a lower bound
(dependencies and extras, ``name>=v`` -> ``name==v``): the oldest versions the project
says it supports, for .ci/run's second environment."""
from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())["project"]
requirements = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
pins = {}
for requirement in requirements:
    match = re.match(r"^([A-Za-z0-9_.-]+)\s*(?:\[[^]]*\])?\s*[^;]*?>=\s*([0-9][^,;\s]*)", requirement)
    if match and match.group(1).lower() != project["name"]:
        pins[match.group(1)] = match.group(2)
if not pins:
    sys.exit("no lower bounds found in pyproject.toml")
print("\n".join(f"{name}=={version}" for name, version in sorted(pins.items(), key=lambda p: p[0].lower())))

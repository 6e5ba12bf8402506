"""YAML parsing for every content and config file: libyaml's C parser when PyYAML has it.

The pure-Python parser takes about 0.3 s over the content files, most of a cold start above spaCy.
"""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """The data in one YAML document (safe types only); yaml.YAMLError when it is not valid YAML."""
    return yaml.load(text, Loader=SafeLoader)

"""Library versions stored with each study, so a result can be traced to what produced it."""

from __future__ import annotations

import platform
from importlib import metadata

_LIBRARIES = ("hpstudio", "scikit-learn", "numpy", "scipy", "pandas", "scikit-optimize", "joblib")


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions

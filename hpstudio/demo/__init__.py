"""The demo study that a newcomer sees first, shipped inside the package.

It lives here rather than in a front end so that the app and the command line both find
it without knowing about each other.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def demo_spec_path() -> Path:
    """The bundled demo spec: scikit-learn's worked random-forest grid on diabetes."""
    return Path(str(resources.files("hpstudio.demo") / "forest-diabetes.toml"))

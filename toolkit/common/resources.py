"""Data files that ship with the toolkit, read through ``importlib.resources``.

The format data (``workbook_templates/``) and the serialised schemas (``schemas/``) sit at
the top of the repository; the build maps them into the wheel as the data packages
``toolkit.formats.data`` and ``toolkit.checking.schemadata`` (pyproject.toml).  Run from a
checkout (``PYTHONPATH``, ``pip install -e``) the top-level folder beside the package is
read, so an edit there is what runs; an installed wheel reads its own data package.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[2]  # the repository root, when run from one


def data_dir(package: str, folder: str) -> Traversable:
    """The data package ``package``, or the checkout's top-level ``folder`` it is built from."""
    here = _CHECKOUT / folder
    if (_CHECKOUT / "pyproject.toml").is_file() and here.is_dir():
        return here
    return resources.files(package)


def format_data() -> Traversable:
    """workbook_templates/: the formats, figure kinds, rule catalogue, template wording."""
    return data_dir("toolkit.formats.data", "workbook_templates")


def package_file(*parts: str) -> Traversable:
    """A file inside the toolkit package itself (``toolkit/data/…``)."""
    return resources.files("toolkit").joinpath(*parts)

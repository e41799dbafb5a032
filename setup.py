"""Packages found, plus the two top-level data folders mapped into the package.

The format data (workbook_templates/) and the schemas (schemas/) stay at the top of the
repository and ship as the data packages below, read with importlib.resources
(toolkit/common/resources.py).  Everything else is in pyproject.toml; this file exists
only because pyproject cannot both find packages and add mapped ones."""

from setuptools import find_packages, setup

DATA_PACKAGES = {"toolkit.formats.data": "workbook_templates", "toolkit.checking.schemadata": "schemas"}

setup(packages=find_packages(include=["toolkit", "toolkit.*"]) + list(DATA_PACKAGES), package_dir=DATA_PACKAGES)

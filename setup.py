"""Only for scrapyd-deploy (scrapyd-client), which builds the egg it uploads to Scrapyd with
`python setup.py bdist_egg`: everything is configured in pyproject.toml, including the
`scrapy` entry point Scrapyd reads the settings module from. Without this file
scrapyd-deploy would write its own setup.py, packaging the folders under the wrong names."""
from setuptools import setup

setup()

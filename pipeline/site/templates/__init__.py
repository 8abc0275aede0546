"""Package data for the nianbao site (a package so that setuptools ships it)."""

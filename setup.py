"""Only the compiled part of nianbao; everything else is declared in pyproject.toml.

`_pdffast` runs the hot loops of the PDF fast path in C (see its header). It is
optional: without a C compiler and the Python headers the install still succeeds and
the same loops run in Python, taking about 1.4x as long on a generated report
(benchmarks/parse.py prints both)."""
from setuptools import Extension, setup

setup(ext_modules=[Extension("pipeline.extract._pdffast", ["pipeline/extract/_pdffast.c"],
                             extra_compile_args=["-O2"], optional=True)])

"""imgproxy's own test cases run against this proxy, one module per imgproxy test file.

cases.json holds the cases as data (see its `_about`); sources.py makes equivalents of the
test images; each test_*.py replays one table. A case the proxy deliberately answers
differently (README: "Where previews differ from imgproxy") is marked there, with why.
"""

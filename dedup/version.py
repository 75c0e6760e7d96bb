"""The installed distribution's version, for ``dedup --version`` and the pages the library writes."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("paradedup")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

"""socialdesk: public brand mentions become triage cards in Slack."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("socialdesk")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"

"""hiddenrate: estimate the hidden volume of crime that official counts never see."""

from hiddenrate._version import __version__

__all__ = ["__version__"]

# Why an image could not be used: explicit errors the plan turns into a failed change with a clear reason.
"""Media errors. Messages name the image (a URL without its query, or `media:<hash>`), never a secret."""

from __future__ import annotations

from syncstore.errors import SyncStoreError


class MediaError(SyncStoreError):
    """An image could not be fetched, read, stored or sized: the change that needs it fails, never the shop."""


class ImageRejected(MediaError):
    """The image is not one SyncStore accepts (type, size in bytes or pixels, unreadable content)."""


class ImageFetchFailed(MediaError):
    """The image URL could not be fetched (network error, timeout, an HTTP error status)."""


class ImageUploadFailed(MediaError):
    """The platform refused an image upload (its reason in the message); quota and authorization errors are
    raised as the connector's own, since they stop the whole shop."""


class ImageNotFound(MediaError):
    """A `media:<hash>` reference names no stored image."""

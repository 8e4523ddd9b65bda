"""Encryption at rest for stream URLs and credentials (Fernet, with key rotation)."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _keys():
    if settings.STREAM_ENCRYPTION_KEYS:
        return [key.encode() for key in settings.STREAM_ENCRYPTION_KEYS]
    # Without configured keys, derive one from SECRET_KEY (documented in README.md).
    digest = hashlib.sha256(f"stream-encryption:{settings.SECRET_KEY}".encode()).digest()
    return [base64.urlsafe_b64encode(digest)]


def _fernet():
    try:
        return MultiFernet([Fernet(key) for key in _keys()])
    except ValueError as error:
        raise ImproperlyConfigured(f"STREAM_ENCRYPTION_KEYS holds an invalid Fernet key ({error}).") from None


def encrypt(text):
    return _fernet().encrypt(text.encode()).decode() if text else ""


def decrypt(token):
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored stream secret cannot be decrypted with STREAM_ENCRYPTION_KEYS: keep the old key "
            "in the list until `manage.py rotate_stream_keys` has run."
        ) from None


def rotate(token):
    """Re-encrypt a token with the newest key."""
    return _fernet().rotate(token.encode()).decode() if token else ""

"""Link tokens: 256 random bits in the e-mail, only their SHA-256 in the database."""

import hashlib
import secrets


def new_token():
    """(token for the link, hash to store)."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()

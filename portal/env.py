"""Typed readers for settings that come from the environment.

Each helper fails loudly (ImproperlyConfigured) on a value it cannot read, so a typo in a
deployment stops the process at start-up instead of silently falling back to a default.
"""

import os
import re
from urllib.parse import parse_qs, urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name):
    value = os.environ.get(name)
    return None if value is None or value.strip() == "" else value.strip()


def env_str(name, default=None):
    value = _raw(name)
    return default if value is None else value


def env_bool(name, default):
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use 1/0, true/false, yes/no or on/off.")


def env_int(name, default, *, minimum=None, maximum=None):
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below the minimum of {minimum}.")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name}={number} is above the maximum of {maximum}.")
    return number


def env_list(name, default):
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_database(name, default):
    """A DATABASES entry parsed from a URL such as postgres://user@host:5432/portal."""
    value = _raw(name) or default
    try:
        config = environ.Env.db_url_config(value)
    except Exception as error:  # environ raises several types for bad URLs
        raise ImproperlyConfigured(f"{name} is not a database URL ({error}).") from None
    if config.get("ENGINE") not in ("django.db.backends.sqlite3", "django.db.backends.postgresql"):
        raise ImproperlyConfigured(f"{name} must be a sqlite:// or postgres:// URL.")
    return config


def env_email(name):
    """E-mail settings parsed from a URL such as smtp+tls://user:password@host:587, or None."""
    value = _raw(name)
    if value is None:
        return None
    try:
        return environ.Env.email_url_config(value)
    except Exception as error:
        raise ImproperlyConfigured(f"{name} is not an e-mail URL ({error}).") from None


def env_redis_url(name):
    value = _raw(name)
    if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"{name} must start with redis://, rediss:// or unix://.")
    return value


def env_rate(name, default):
    """A rate limit such as "120/min" (DRF's throttle syntax: a count per s, min, hour or day)."""
    value = _raw(name) or default
    count, _slash, period = value.partition("/")
    if not count.isdigit() or int(count) < 1 or not period or period[0] not in "smhd":
        raise ImproperlyConfigured(f"{name}={value!r} is not a rate: use a count per period, e.g. 120/min.")
    return value


_BUCKET = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")
_STORAGE_URL_HELP = ("use s3://BUCKET[/PREFIX][?endpoint=https://s3.example.org&region=us-east-1&addressing=path], "
                     "with the keys in FOOTAGE_STORAGE_ACCESS_KEY and FOOTAGE_STORAGE_SECRET_KEY")


def env_storage_url(name):
    """S3 options for django-storages from s3://bucket/prefix?endpoint=…&region=…&addressing=path|virtual, or None.

    The endpoint defaults to AWS; with an endpoint (an S3-compatible store) addressing defaults to "path".
    Keys never go in the URL: the caller reads them from variables of their own.
    """
    value = _raw(name)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme != "s3" or "@" in parts.netloc or not _BUCKET.fullmatch(parts.netloc):
        raise ImproperlyConfigured(f"{name}={value!r} is not a storage URL: {_STORAGE_URL_HELP}.")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"endpoint", "region", "addressing"})
    if unknown or any(len(values) > 1 for values in query.values()):
        raise ImproperlyConfigured(f"{name} has unknown or repeated options ({', '.join(unknown) or 'repeated'}): "
                                   f"{_STORAGE_URL_HELP}.")
    options = {key: values[0].strip() for key, values in query.items()}
    endpoint = options.get("endpoint") or None
    if endpoint is not None and urlsplit(endpoint).scheme not in ("http", "https"):
        raise ImproperlyConfigured(f"{name}'s endpoint must be an http:// or https:// address, not {endpoint!r}.")
    addressing = options.get("addressing") or ("path" if endpoint else None)
    if addressing not in (None, "path", "virtual"):
        raise ImproperlyConfigured(f"{name}'s addressing must be 'path' or 'virtual', not {addressing!r}.")
    return {"bucket_name": parts.netloc, "location": parts.path.strip("/"), "endpoint_url": endpoint,
            "region_name": options.get("region") or None, "addressing_style": addressing}


def env_choice(name, default, choices):
    """One of a fixed set of words, e.g. GEOCODER=local|nominatim."""
    value = _raw(name)
    if value is None:
        return default
    if value.lower() not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not one of: {', '.join(choices)}.")
    return value.lower()


def env_viewbox(name):
    """A box of the map given as WEST,SOUTH,EAST,NORTH in degrees (longitude, latitude), or None."""
    value = _raw(name)
    if value is None:
        return None
    help_text = f"{name}={value!r} is not a box: use WEST,SOUTH,EAST,NORTH in degrees, e.g. -74.03,40.69,-73.98,40.74."
    try:
        west, south, east, north = (float(part) for part in value.split(","))
    except ValueError:
        raise ImproperlyConfigured(help_text) from None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise ImproperlyConfigured(help_text)
    return (west, south, east, north)

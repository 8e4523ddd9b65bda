"""Small access helpers for HTML views: they raise PermissionDenied or redirect, nothing else."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect


def staff_required(view):
    """Police staff only. (MFA is enforced for staff by middleware before any view runs.)"""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied("This page is for police staff.")
        return view(request, *args, **kwargs)

    return wrapper


def owner_required(view):
    """Residents and businesses; staff are sent to their own home page."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_staff:
            return redirect("portal:staff_home")
        return view(request, *args, **kwargs)

    return wrapper


def owner_only(view):
    """Residents and businesses only; anyone else signed in (police staff) is refused with 403."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_owner:
            raise PermissionDenied("This page is for camera owners.")
        return view(request, *args, **kwargs)

    return wrapper

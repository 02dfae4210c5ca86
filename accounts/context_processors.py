from . import selectors


def workspace(request):
    """Role switcher data for the header."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    role = getattr(request, "role", None)
    from django.conf import settings

    return {
        "regime": settings.CPD_REGIME,
        "active_role": role,
        "user_roles": getattr(request, "user_roles", None) or selectors.roles_of(user),
    }

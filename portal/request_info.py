def client_ip(request):
    """The client's address as daphne (or the trusted proxy in front of it) reports it."""
    return request.META.get("REMOTE_ADDR") or None


def user_agent(request):
    return request.META.get("HTTP_USER_AGENT", "")[:400]

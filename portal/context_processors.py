from django.conf import settings


def portal(request):
    return {"CITY_NAME": settings.CITY_NAME, "PROGRAM_NAME": settings.PROGRAM_NAME, "DEBUG_OUTBOX": settings.DEBUG}

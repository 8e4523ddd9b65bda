from django.conf import settings


def portal(request):
    return {
        "CITY_NAME": settings.CITY_NAME,
        "PROGRAM_NAME": settings.PROGRAM_NAME,
        "DEBUG_OUTBOX": settings.DEBUG,
        "MAP": {
            "tiles": settings.MAP_TILES_URL,
            "attribution": settings.MAP_TILES_ATTRIBUTION,
            "lat": settings.LEAFLET_CONFIG["DEFAULT_CENTER"][0],
            "lng": settings.LEAFLET_CONFIG["DEFAULT_CENTER"][1],
        },
    }

"""The app's URLs plus the benchmarks' floor: `/bench/floor/`, the least a signed-in request costs.

Selected by bench/settings.py; the app's own URLconf (contactsite/urls.py) is untouched.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

# Only the root URLconf's handlers count: keep the app's (JSON errors under /api/).
handler500 = "contacts.api.errors.server_error"


def floor(request: HttpRequest) -> HttpResponse:
    """The whole middleware stack, the session and its user, and nothing else: a two-byte answer.

    Every benchmarked page pays this much before its own work; a signed-out request gets 403, so a
    lost session shows up as errors instead of as a fast floor.
    """
    if not request.user.is_authenticated:
        return HttpResponse("signed out", status=403, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/floor/", floor, name="bench_floor"),
    path("", include("contactsite.urls")),
]

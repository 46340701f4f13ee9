"""The benchmark's floor: the cheapest page Django can answer through the site's middleware.

Mounted at /bench/floor by bench/urls.py, under `make bench` only (bench/settings.py); it never
touches the database, not even to open the request's transaction.
"""

from django.db import transaction
from django.http import HttpResponse
from django.views.decorators.http import require_GET

FLOOR_BODY = "sectorblog floor\n"


@transaction.non_atomic_requests  # ATOMIC_REQUESTS would check out a pooled connection
@require_GET
def floor(request):
    return HttpResponse(FLOOR_BODY, content_type="text/plain; charset=utf-8")

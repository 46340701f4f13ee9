"""Error pages that do not need the database (500 may be caused by it)."""

from django.http import HttpResponseNotFound, HttpResponseServerError
from django.template.loader import render_to_string
from django.views.decorators.csrf import requires_csrf_token


@requires_csrf_token
def page_not_found(request, exception=None):
    return HttpResponseNotFound(render_to_string("404.html", request=request))


@requires_csrf_token
def server_error(request):
    return HttpResponseServerError(render_to_string("500.html"))

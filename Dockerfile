# syntax=docker/dockerfile:1
# sectorblog production image: locked dependencies, non-root user, static files collected at build.

FROM python:3.13-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
COPY requirements.lock ./
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock

FROM python:3.13-slim
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=sectorblog.settings VAR_DIR=/app/var
RUN useradd --system --create-home --uid 10001 sectorblog
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY manage.py ./
COPY gunicorn.conf.py ./
COPY sectorblog ./sectorblog
COPY posts ./posts
COPY comments ./comments
COPY templates ./templates
COPY static ./static
COPY locale ./locale
# collectstatic needs settings to import; these build-time values are never used at run time.
RUN DEBUG=0 SECRET_KEY=build-only ALLOWED_HOSTS=build python manage.py collectstatic --noinput -v0 \
 && mkdir -p /app/var/media && chown -R sectorblog /app/var
USER sectorblog
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"
# Workers, threads, timeouts and worker recycling come from gunicorn.conf.py (read from WORKDIR):
# one single-threaded worker per CPU plus one; WEB_CONCURRENCY and GUNICORN_THREADS override.
CMD ["gunicorn", "sectorblog.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]

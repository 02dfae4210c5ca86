FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 CPD_PRODUCTION=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# collectstatic needs a secret key at build time only; the real one comes from the environment.
RUN DJANGO_SECRET_KEY=build-only CELERY_BROKER_URL=redis://build-only python manage.py collectstatic --noinput -v 0
# The deployment checklist must be clean with production settings (a random key of the real length).
RUN DJANGO_SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" CELERY_BROKER_URL=redis://build-only python manage.py check --deploy --fail-level WARNING
RUN useradd --create-home cpd && mkdir -p /data/private && chown -R cpd /data /app
USER cpd
EXPOSE 8000
# Threaded workers (gthread): a request waiting on PostgreSQL or reading an upload does not hold a whole
# process, so a reviewer's approval is not queued behind teachers' uploads (docs/operations.md, "Web server").
# Each thread keeps its own database connection (CONN_MAX_AGE): workers × threads connections per container.
CMD ["gunicorn", "cpd.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--worker-class", "gthread", "--threads", "4", "--timeout", "120"]

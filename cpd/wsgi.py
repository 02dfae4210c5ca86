import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cpd.settings")
application = get_wsgi_application()

# Production refuses a demo database (cpd/production.py); a no-op otherwise.
from cpd.production import refuse_unsafe_start  # noqa: E402

refuse_unsafe_start()

"""Celery application: broker and task options come from Django settings (CELERY_* names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactsite.settings")

app = Celery("contactsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

from django.contrib import admin
from django.urls import include, path

from contacts.health import healthz

urlpatterns = [
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("", include("contacts.urls")),
]

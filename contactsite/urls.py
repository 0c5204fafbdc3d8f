from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from contacts.accounts.views import admin_login
from contacts.health import healthz

# Errors under /api/ answer JSON like the rest of the API; pages keep their HTML error page.
handler500 = "contacts.api.errors.server_error"

urlpatterns = [
    path("accounts/", include("contacts.accounts.urls")),
    # Ahead of the admin's own URLs: the admin's sign-in is throttled like the app's.
    path("admin/login/", admin_login),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("contacts.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's init script from a URL: the CSP allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("contacts.urls")),
]

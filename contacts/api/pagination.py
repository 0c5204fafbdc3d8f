"""Page-number pagination whose bad `?page=` answers 400 with a field message (not DRF's 404 page)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.pagination import PageNumberPagination


class ContactsPagination(PageNumberPagination):
    page_size = settings.CONTACTS_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = 200
    # Out-of-range pages answer 404 "Invalid page." (DRF's behaviour); malformed ones are refused
    # earlier by the query serializers, which also publish `page` and `page_size` with their limits.

    def get_schema_operation_parameters(self, view) -> list:
        return []

"""WebSocket addresses (served by Daphne through contactsite.asgi)."""

from django.urls import path

from contacts.live.consumers import WorkspaceConsumer

websocket_urlpatterns = [
    path("ws/workspaces/<uuid:workspace_id>/", WorkspaceConsumer.as_asgi()),
]

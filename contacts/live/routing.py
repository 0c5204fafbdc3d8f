"""WebSocket addresses (served by Daphne through contactsite.asgi)."""

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path, re_path

from contacts.live.consumers import WorkspaceConsumer

# Closes a socket opened on an address that does not exist (or a workspace id that is not one).
CLOSE_NOT_FOUND = 4404


class UnknownAddressConsumer(AsyncWebsocketConsumer):
    """Any other WebSocket address: accepted so that the close code can say why, then closed
    with 4404. Without it the router raises "No route found" and the server logs an error for
    what is only a wrong address."""

    async def connect(self) -> None:
        await self.accept()
        await self.close(code=CLOSE_NOT_FOUND)


websocket_urlpatterns = [
    path("ws/workspaces/<uuid:workspace_id>/", WorkspaceConsumer.as_asgi()),
    re_path(r"", UnknownAddressConsumer.as_asgi()),
]

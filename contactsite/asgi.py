"""ASGI entry point served by Daphne: HTTP through Django, WebSockets through Channels."""

import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactsite.settings")

# Django must be set up before anything imports models (the WebSocket routing does).
django.setup(set_prefix=False)  # as django.core.asgi.get_asgi_application does

from contactsite.asgi_handler import SyncChainASGIHandler  # noqa: E402

django_asgi_app = SyncChainASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from contacts.live.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Sockets carry the session cookie, so a page from another site must not open one in the
        # user's name: the Origin must be one of ALLOWED_HOSTS (cross-site WebSocket hijacking).
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# Everything loaded so far (Django, the app, the URLconf) lives as long as the process: keep it out
# of the garbage collector's passes. The sockets' objects are frozen the same way once they settle
# (contacts.live.collector).
gc.collect()
gc.freeze()

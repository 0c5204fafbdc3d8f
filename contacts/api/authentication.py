"""`Authorization: Token <key>` against contacts.ApiToken (one key per user)."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from contacts.models import ApiToken


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token scheme, backed by our UUID-keyed ApiToken model (one migration set for every engine)."""

    model = ApiToken

    def authenticate_credentials(self, key: str):
        token = ApiToken.objects.select_related("user").filter(key=key).first()
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return token.user, token

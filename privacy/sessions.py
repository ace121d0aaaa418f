"""Django's database session engine, with each session's account kept in its own
column (Django's documented way to extend a session engine), so that erasing an
account deletes every one of its sessions rather than only invalidating them.
Nothing else is stored: no address, no browser details (promise P1)."""

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DBSessionStore


class SessionStore(DBSessionStore):
    @classmethod
    def get_model_class(cls):
        from .models import AccountSession

        return AccountSession

    def create_model_instance(self, data):
        instance = super().create_model_instance(data)
        account = data.get(SESSION_KEY)
        instance.account_id = int(account) if str(account or "").isdigit() else None
        return instance


def sessions_end_for(account_id):
    """Delete every stored session of an account; returns how many there were."""
    from .models import AccountSession

    deleted, _ = AccountSession.objects.filter(account_id=account_id).delete()
    return deleted

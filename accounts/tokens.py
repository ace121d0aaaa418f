"""Tokens for links that prove an email address (sign-up and email change)."""

from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int

EMAIL_LINK_MAX_AGE = 60 * 60 * 24 * 3


class EmailLinkTokenGenerator(PasswordResetTokenGenerator):
    """Like a password reset token, a link is valid only while everything it was made
    from is unchanged: the address it proves, the current address and its proof, the
    password, the account being active, and the nonce of the newest link sent. So a link
    works once, a newer link supersedes it, and an email change, a password change or
    erasing the account ends it."""

    key_salt = "accounts.tokens.EmailLinkTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        proven = "" if user.email_verified_at is None else int(user.email_verified_at.timestamp())
        return (
            f"{user.pk}|{user.pending_email.lower()}|{user.email.lower()}|{proven}|{user.password}"
            f"|{user.is_active}|{user.email_link_nonce}|{timestamp}"
        )

    def check_token(self, user, token):
        if not (user and token and user.pending_email and user.email_link_nonce):
            return False
        try:
            ts = base36_to_int(token.split("-")[0])
        except ValueError:
            return False
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        ):
            return False
        return 0 <= self._num_seconds(self._now()) - ts <= EMAIL_LINK_MAX_AGE


email_link_token = EmailLinkTokenGenerator()

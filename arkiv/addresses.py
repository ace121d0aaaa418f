"""How the shop compares email addresses: without surrounding space and case-blind, so
an address is one key wherever it is stored or looked up (accounts, orders, consent,
the outbox, sign-in lockouts and rate limits)."""


def normalise_email(value):
    """The form of an address that is stored and compared ("" for none)."""
    return (value or "").strip().lower()

"""What other apps tell the policy layer about personal data they hold. Each app
registers its providers in AppConfig.ready(), so privacy never imports them and the
list of personal data in the shop is this one registry."""

_postal_addresses = []
_known_emails = []
_personal_data = []
_erasers = []
_purgers = []
_erasure_blockers = []
_languages = []


def register(
    *,
    postal_addresses=None,
    known_emails=None,
    personal_data=None,
    erase=None,
    purge=None,
    blocking_erasure=None,
    languages=None,
):
    """postal_addresses(): iterable of dicts (email, name, line1, line2, city, postcode, country), newest first.
    known_emails(emails): the subset of emails that belong to customers.
    personal_data(email, user): a dict section for the customer's data download.
    erase(email, user): erase or pseudonymise what the app holds for the customer.
    purge(today): delete records kept for the law whose retention date has passed; returns a count.
    blocking_erasure(email, user): reasons (sentences) why the customer cannot be erased yet.
    languages(emails): {email: language} of customers who chose the language of their emails.

    email is the account's proven address, or None when the account has not proven it:
    then a provider matches only what is linked to the account itself (user), never
    by address."""
    for registry, provider in (
        (_postal_addresses, postal_addresses),
        (_known_emails, known_emails),
        (_personal_data, personal_data),
        (_erasers, erase),
        (_purgers, purge),
        (_erasure_blockers, blocking_erasure),
        (_languages, languages),
    ):
        if provider is not None and provider not in registry:
            registry.append(provider)


def postal_addresses():
    for provider in _postal_addresses:
        yield from provider()


def known_emails(emails):
    found = set()
    for provider in _known_emails:
        found |= set(provider(emails))
    return found


def personal_data(email, user):
    data = {}
    for provider in _personal_data:
        data.update(provider(email, user))
    return data


def erase(email, user):
    for provider in _erasers:
        provider(email, user)


def purge(today):
    return sum(provider(today) for provider in _purgers)


def blocking_erasure(email, user):
    reasons = []
    for provider in _erasure_blockers:
        reasons.extend(provider(email, user))
    return reasons


def languages(emails):
    found = {}
    for provider in _languages:
        found.update(provider(emails))
    return found

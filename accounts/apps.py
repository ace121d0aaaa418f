from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Customer accounts"

    def ready(self):
        from privacy import providers

        from . import privacy_data

        providers.register(
            known_emails=privacy_data.known_emails,
            personal_data=privacy_data.personal_data,
            erase=privacy_data.erase,
            languages=privacy_data.languages,
        )

"""The German texts of the first published privacy policy and terms of sale (version 1
of each), word for word what the English versions promise; the privacy officer writes
the translations of later drafts."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PRIVACY_OFFICER = [
    "add_policytranslation",
    "change_policytranslation",
    "delete_policytranslation",
    "view_policytranslation",
]

PRIVACY_TITLE = "Datenschutzerklärung"
PRIVACY = """Arkiv verkauft Aufnahmen klassischer Musik. Diese Erklärung sagt, was wir mit Ihren personenbezogenen Daten tun. Jedes Versprechen darin wird von der Software des Shops eingehalten und von ihren Tests geprüft.

1. Was wir erheben. Nur, was eine Bestellung braucht: Ihre Kartendaten (die Sie auf der Seite unseres Zahlungsdienstleisters eingeben und die wir weder sehen noch speichern), Ihre Rechnungs- und Lieferadresse, eine Telefonnummer, die wir nur nutzen, wenn ein Paket nicht zugestellt werden kann, und eine E-Mail-Adresse für Nachrichten zu Ihrer Bestellung.

2. Wer sie sonst sieht. Niemand außerhalb von Arkiv, außer zur Abwicklung Ihrer Bestellung: der Zahlungsdienstleister (der Betrag, die Artikel und Ihre E-Mail-Adresse) und das Versandunternehmen (Ihre Lieferadresse und Telefonnummer), oder wo das Gesetz es verlangt.

3. Angebote per E-Mail. Wir senden sie nur, wenn Sie ausdrücklich darum bitten: Das Kästchen ist nie für Sie angekreuzt, und Ihre Anfrage gilt erst, nachdem Sie sie über den Link bestätigt haben, den wir Ihnen per E-Mail senden. Jede Angebots-E-Mail enthält einen Link, mit dem Sie sich mit einem Klick abmelden. E-Mails zu Ihren Bestellungen sind keine Angebote und enthalten nie welche.

4. Angebote per Post. Wir können unsere eigenen Angebote und Angebote, die wir im Auftrag von Partnern machen, an die Adresse Ihrer Bestellungen schicken. Wir drucken und versenden sie selbst: Partner erhalten nie Ihren Namen oder Ihre Adresse. Um sie abzubestellen, schreiben Sie an service@ (ein einfacher Satz genügt) oder ändern Sie es in Ihrem Kundenkonto.

5. Nachrichten zu Ihrer Bestellung. Wir schreiben Ihnen eine E-Mail, wenn wir sie bestätigen, versenden, stornieren oder erstatten.

6. Sicherheit. Alles wird verschlüsselt übertragen. Ihre Karte wird bei der Bestellung von einem regulierten Zahlungsdienstleister autorisiert und belastet, wenn Ihre Bestellung versandt wird.

7. Cookies. Wir setzen ein Cookie, das Ihre Sitzung und Ihren Warenkorb zusammenhält, und eines, das unsere Formulare schützt. Wir lesen nichts, was nicht von uns stammt, und es gibt keine Werbe- oder Tracking-Cookies, -Skripte oder -Pixel.

8. Kinder. Wir verkaufen nicht an Kinder: Wer unter 18 ist, darf nur in Begleitung eines Elternteils oder Erziehungsberechtigten bestellen, der eine Kopie der Bestätigung erhält. An Kundinnen und Kunden unter 18 senden wir nie Angebote.

9. Änderungen und Fragen. Wenn sich diese Erklärung ändert, veröffentlichen wir hier eine neue Fassung mit ihrem Datum und behalten die früheren; die geltende Fassung ist auf jeder Seite verlinkt. Fragen: feedback@.

Ihre Rechte. In Ihrem Kundenkonto können Sie Ihre Daten herunterladen, berichtigen oder Ihr Konto löschen. Wir behalten dann nur, was das Steuerrecht für frühere Bestellungen verlangt, so lange es dies verlangt, sowie einen nicht umkehrbaren Fingerabdruck Ihrer Adresse, damit Ihnen nie wieder Angebote gesendet werden."""

TERMS_TITLE = "Allgemeine Geschäftsbedingungen"
TERMS = """Die Preise enthalten die Mehrwertsteuer. Ihre Karte wird bei der Bestellung autorisiert und belastet, wenn wir versenden.

Vorrätige Artikel werden in 1-2 Werktagen versandt. Auf Bestellung gefertigte Discs werden für Sie hergestellt und nach der auf der Seite der Veröffentlichung angegebenen Lieferzeit versandt.

Sie können einen Artikel innerhalb von 14 Tagen nach der Lieferung gegen Erstattung zurückgeben. Fragen zu einer Bestellung: service@."""


def _officer_may_translate(apps):
    config = apps.get_app_config("privacy")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group").objects.filter(name="Privacy officer").first()
    if group is not None:
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="privacy", codename__in=PRIVACY_OFFICER)
        )


def forward(apps, schema_editor):
    _officer_may_translate(apps)
    PolicyDocument = apps.get_model("privacy", "PolicyDocument")
    PolicyTranslation = apps.get_model("privacy", "PolicyTranslation")
    for kind, title, body in (("privacy", PRIVACY_TITLE, PRIVACY), ("terms", TERMS_TITLE, TERMS)):
        document = PolicyDocument.objects.filter(kind=kind, version=1).first()
        if document is not None:
            PolicyTranslation.objects.get_or_create(
                document=document, language="de", defaults={"title": title, "body": body}
            )


def backward(apps, schema_editor):
    apps.get_model("privacy", "PolicyTranslation").objects.filter(document__version=1, language="de").delete()


class Migration(migrations.Migration):
    dependencies = [("privacy", "0010_policy_translations"), ("privacy", "0005_staff_groups")]

    operations = [migrations.RunPython(forward, backward)]

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Format, Role
from .selectors import SORTS, RecordingFilters


class RecordingFilterForm(forms.Form):
    format = forms.ChoiceField(choices=[("", _("Any format")), *Format.choices], required=False)
    label = forms.SlugField(required=False, max_length=200)
    performer = forms.SlugField(required=False, max_length=200)
    year = forms.IntegerField(required=False, min_value=1900, max_value=2100)
    sort = forms.ChoiceField(
        choices=[
            ("newest", _("Newest first")),
            ("recommended", _("Recommended (awards and picks first)")),
            ("oldest", _("Oldest first")),
            ("price", _("Price: low to high")),
            ("-price", _("Price: high to low")),
        ],
        required=False,
    )

    def filters(self):
        """The filters that were valid; an unknown value is dropped, not an error page."""
        self.is_valid()
        data = {name: value for name, value in getattr(self, "cleaned_data", {}).items() if value}
        if data.get("sort") not in SORTS:
            data.pop("sort", None)
        return RecordingFilters(**data)


class ArtistRoleForm(forms.Form):
    role = forms.ChoiceField(choices=[("", _("All roles")), *Role.choices], required=False)


class SearchForm(forms.Form):
    q = forms.CharField(max_length=200, required=False, strip=True)

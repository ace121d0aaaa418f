"""The customer's side of returns: opening one from the order page."""

import uuid

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from . import returns
from .models import ReturnReason
from .views import _own_order


class ReturnForm(forms.Form):
    """Which copies go back and why. One field per line that can still be returned."""

    reason = forms.ChoiceField(
        label=_("Reason for the return"), choices=[("", _("Choose a reason")), *ReturnReason.choices]
    )
    details = forms.CharField(
        label=_("Anything we should know (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea({"rows": 3}),
    )
    token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, lines, available, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["token"].initial = uuid.uuid4()
        self.line_fields = []
        for line in lines:
            left = available.get(line.pk, 0)
            if not left:
                continue
            name = f"line_{line.pk}"
            self.fields[name] = forms.IntegerField(
                label=gettext("Copies of %(title)s (%(format)s) to return")
                % {"title": line.title, "format": line.format_label},
                min_value=0,
                max_value=left,
                initial=0,
                required=False,
                help_text=gettext("You bought %(bought)s; up to %(left)s can be returned.")
                % {"bought": line.quantity, "left": left},
                error_messages={"max_value": gettext("You can return at most %(left)s of this item.") % {"left": left}},
            )
            self.line_fields.append((line, self[name]))

    def quantities(self):
        return {
            int(name.removeprefix("line_")): value
            for name, value in self.cleaned_data.items()
            if name.startswith("line_") and value
        }

    def clean(self):
        data = super().clean()
        if not self.errors and not self.quantities():
            raise forms.ValidationError(gettext("Choose how many copies of at least one item you are returning."))
        return data


@require_http_methods(["GET", "POST"])
def return_open(request, number):
    """Open a return for items of a shipped order, within the return period."""
    order = _own_order(request, number)
    refusal = returns.return_refusal(order)
    if refusal:
        return render(request, "orders/return_closed.html", {"order": order, "reason": refusal}, status=403)
    lines = list(order.lines.all())
    form = ReturnForm(request.POST or None, lines=lines, available=returns.returnable_quantities(order))
    if not form.line_fields:
        reason = gettext("Every item of order %(number)s has already been returned.") % {"number": order.number}
        return render(request, "orders/return_closed.html", {"order": order, "reason": reason}, status=403)
    if request.method == "POST":
        if form.is_valid():
            try:
                ret = returns.return_open(
                    order=order,
                    quantities=form.quantities(),
                    reason=form.cleaned_data["reason"],
                    details=form.cleaned_data["details"],
                    token=form.cleaned_data["token"],
                )
            except returns.ReturnError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    gettext("Return %(number)s is open. We have emailed you where to send the items.")
                    % {"number": ret.number},
                )
                return redirect("orders:detail", number=order.number)
        return render(request, "orders/return_open.html", {"order": order, "form": form}, status=400)
    return render(request, "orders/return_open.html", {"order": order, "form": form})

from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm

from .models import User


class StaffUserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ["email"]


class StaffUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = ["email", "full_name"]

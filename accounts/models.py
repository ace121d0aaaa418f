from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from arkiv.addresses import normalise_email


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalise_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)


class User(AbstractBaseUser, PermissionsMixin):
    """A customer or staff member, who signs in with an email address."""

    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(default=False, help_text="Can sign in to the admin.")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    email_verified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the account holder proved the current address (cleared when it changes)."
    )
    # The address the newest emailed link would prove (the sign-up address or a new one).
    pending_email = models.EmailField(blank=True)
    # Changes with every link sent, so a newer link makes the older ones useless.
    email_link_nonce = models.CharField(max_length=32, blank=True)
    # The language the account's emails are written in: the page's at sign-up, then the
    # one the holder last signed in on or chose on the account page.
    language = models.CharField(
        "language for emails", max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique")]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._remember_proof()

    def _remember_proof(self):
        # Read from __dict__ so a deferred field is not loaded just for this.
        self._loaded_proof = (self.__dict__.get("email"), self.__dict__.get("email_verified_at"))

    def save(self, *args, **kwargs):
        loaded_email, loaded_verified = self._loaded_proof
        changed_unproven = (
            loaded_email is not None
            and self.email != loaded_email
            and self.email_verified_at is not None
            and self.email_verified_at == loaded_verified
        )
        if changed_unproven:
            # A proof is for one address: a new address (admin edit, erasure) starts unproven.
            self.email_verified_at = None
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "email_verified_at"}
        super().save(*args, **kwargs)
        self._remember_proof()

    def __str__(self):
        return self.email

    @property
    def email_is_proven(self):
        """Whether the holder proved the current address: only then does anything matched
        by that address (guest orders, consents, exports) count for this account."""
        return self.email_verified_at is not None

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Address(models.Model):
    """An address in a customer's address book, used to prefill checkout."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="addresses")
    name = models.CharField("full name", max_length=150)
    line1 = models.CharField("address", max_length=200)
    line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField("town or city", max_length=100)
    postcode = models.CharField(max_length=20)
    country = models.CharField(max_length=2)
    phone = models.CharField(max_length=30, blank=True)
    is_default = models.BooleanField("use by default", default=False)

    class Meta:
        ordering = ["-is_default", "pk"]
        verbose_name_plural = "addresses"

    def __str__(self):
        return f"{self.name}, {self.line1}, {self.city}"

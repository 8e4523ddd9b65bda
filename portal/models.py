from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserQuerySet(models.QuerySet):
    def owners(self):
        """Residents and businesses: the people who register cameras."""
        return self.filter(is_staff=False, account_type__in=[User.AccountType.RESIDENT, User.AccountType.BUSINESS])

    def staff(self):
        return self.filter(is_staff=True)

    def in_role(self, role_name):
        return self.filter(is_staff=True, groups__name=role_name)


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.update(is_staff=True, is_superuser=True, account_type=User.AccountType.STAFF)
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who signs in: camera owners (residents, businesses) and police staff."""

    class AccountType(models.TextChoices):
        RESIDENT = "resident", _("Resident")
        BUSINESS = "business", _("Business")
        STAFF = "staff", _("Police staff")

    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    account_type = models.CharField(
        _("account type"), max_length=16, choices=AccountType.choices, default=AccountType.RESIDENT
    )
    business_name = models.CharField(_("business name"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    badge_number = models.CharField(
        _("badge number"), max_length=32, blank=True, help_text=_("Shown to owners in their access log.")
    )
    language = models.CharField(_("language"), max_length=8, blank=True)
    is_staff = models.BooleanField(
        _("police staff"), default=False, help_text=_("Staff sign in to the admin and the real-time pages.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [("view_statistics", "Can view aggregate program statistics")]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name others see: business name, full name, or the e-mail's local part."""
        if self.account_type == self.AccountType.BUSINESS and self.business_name:
            return self.business_name
        return self.full_name or self.email.split("@")[0]

    @property
    def staff_label(self) -> str:
        """How staff are named to owners: name and badge, never the e-mail address."""
        name = self.full_name or _("Staff member")
        return f"{name} (#{self.badge_number})" if self.badge_number else str(name)

    @property
    def is_owner(self):
        return not self.is_staff and self.account_type in (self.AccountType.RESIDENT, self.AccountType.BUSINESS)

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.display_name


class OutboxEmailQuerySet(models.QuerySet):
    def newest_first(self):
        return self.order_by("-sent_at", "-id")


class OutboxEmail(models.Model):
    """A message the development e-mail backend kept instead of sending (DEBUG outbox)."""

    sent_at = models.DateTimeField(default=timezone.now, db_index=True)
    from_email = models.CharField(max_length=320)
    to = models.TextField(help_text="Comma-separated recipients.")
    subject = models.CharField(max_length=998)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)

    objects = OutboxEmailQuerySet.as_manager()

    class Meta:
        verbose_name = "outbox e-mail"

    def __str__(self):
        return f"{self.subject} → {self.to}"

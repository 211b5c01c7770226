"""Public forms: what a supporter may send, and the message they get when it is wrong.

Every message is translated (ru, kk in this app's locale), and a form that fails stores
nothing: the views call a service only with a valid form. Markup is refused outright rather
than escaped, so that a name shown on a petition page or printed on a delivery list is
exactly what the signer typed and nothing more.

The forms the public pages serve (PetitionSignForm, LetterReportForm, RsvpForm) must also come
back no sooner than a person could fill them in (HumanTimedForm, human_timing.py); the API
validates with the plain SignForm.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from . import human_timing
from .models import LANGUAGE_CHOICES
from .services import SupporterDetails

NAME_MAX = 200
COUNTRY_MAX = 100
COMMENT_MAX = 1000
EMAIL_MAX = 254


# Django fills in %(limit_value)s when the check fails, in the language active then.
TOO_LONG = _("Please shorten this to %(limit_value)s characters at most.")


def check_plain_text(value: str, *, multiline: bool = False) -> str:
    """Refuse markup and invisible control characters; return the text trimmed."""
    if "<" in value or ">" in value:
        raise ValidationError(_("Please leave out the characters < and >."), code="markup")
    allowed = {"\n", "\r", "\t"} if multiline else set()
    if any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in allowed for ch in value):
        raise ValidationError(
            _("This contains invisible control characters; please retype it."),
            code="control",
        )
    return value.strip()


class HumanTimedForm(forms.Form):
    """A public form carrying a signed stamp of when it was served (human_timing.py).

    `timed_for` is what the form is for (a petition's slug, an action's pk): with the class's
    TIMING_KIND it names the stamp's scope. `shared=True` renders the placeholder instead, for a
    page shared between readers that gets each reader's stamp put in (`human_timing.fill`).
    """

    TIMING_KIND = ""
    served = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(
        self, *args: Any, timed_for: str | int, shared: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.timing_scope = self.scope(timed_for)
        fresh = human_timing.PLACEHOLDER if shared else human_timing.stamp(self.timing_scope)
        name = self.add_prefix(human_timing.FIELD)
        returned = self.data.get(name)
        self.returned_stamp = returned if isinstance(returned, str) else None
        if self.is_bound:
            # Shown again (with its messages) under a stamp of its own: the wait starts anew.
            data = self.data.copy() if isinstance(self.data, QueryDict) else dict(self.data)
            data[name] = fresh
            self.data = data
        self.fields[human_timing.FIELD].initial = fresh

    @classmethod
    def scope(cls, timed_for: str | int) -> str:
        return f"{cls.TIMING_KIND}:{timed_for}"

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        human_timing.check(self.returned_stamp, self.timing_scope)
        return cleaned

    def use_stamp(self) -> bool:
        """Use up the stamp this valid form came with; False, with the very message of a stamp
        that could not be checked, if it was used before (threat: one stamp replayed by a
        script, human_timing.py).

        The views call it after `is_valid()` and the per-client limit, just before storing,
        not from `clean`: a form refused for what was typed (an address mistyped) or for the
        limit leaves its stamp unused, though it comes back with a fresh one anyway. Threat:
        a flood of junk or over-the-limit submissions, each under a freshly fetched stamp,
        would otherwise write a day-long row per request into the shared cache, whose cull
        (MAX_ENTRIES) then forgets other clients' rate-limit counts and used stamps; here each
        row is a submission the per-client limit has counted.
        """
        if human_timing.use(self.returned_stamp):
            return True
        self.add_error(None, ValidationError(human_timing.NOT_CHECKED, code="stamp"))
        return False


class SupporterForm(forms.Form):
    name = forms.CharField(
        label=_("Your name"),
        max_length=NAME_MAX,
        error_messages={
            "required": _("Please give your name."),
            "max_length": TOO_LONG,
        },
    )
    email = forms.EmailField(
        label=_("Your e-mail address"),
        max_length=EMAIL_MAX,
        error_messages={
            "required": _("Please give your e-mail address."),
            "invalid": _("This is not an e-mail address we can write to, e.g. name@example.org."),
            "max_length": TOO_LONG,
        },
    )
    country = forms.CharField(
        label=_("Your country"),
        max_length=COUNTRY_MAX,
        error_messages={
            "required": _("Please give your country."),
            "max_length": TOO_LONG,
        },
    )
    language = forms.ChoiceField(
        label=_("Language for our e-mails"),
        choices=LANGUAGE_CHOICES,
        error_messages={"invalid_choice": _("Please choose one of the languages offered.")},
    )
    processing_consent = forms.BooleanField(
        required=True,
        error_messages={
            "required": _("We can only record this with your consent: please tick the box.")
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].initial = (translation.get_language() or "en")[:2]

    def clean_name(self) -> str:
        return check_plain_text(self.cleaned_data["name"])

    def clean_country(self) -> str:
        return check_plain_text(self.cleaned_data["country"])

    def details(self) -> SupporterDetails:
        data = self.cleaned_data
        return SupporterDetails(
            email=data["email"],
            name=data["name"],
            country=data["country"],
            language=data["language"],
        )


class SignForm(SupporterForm):
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": TOO_LONG},
    )
    public_name_consent = forms.BooleanField(
        required=False, label=_("Show my name on the public list of signers.")
    )
    contact_consent = forms.BooleanField(
        required=False, label=_("E-mail me about this campaign (at most a few times a year).")
    )
    field_order = [
        "name",
        "email",
        "country",
        "comment",
        "language",
        "processing_consent",
        "public_name_consent",
        "contact_consent",
    ]

    def __init__(self, *args: Any, target_name: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        label: str
        if target_name:
            label = _(
                "I agree that my name, country and comment are stored and delivered with this "
                "petition to %(target)s. (Required.)"
            ) % {"target": target_name}
        else:
            label = str(
                _(
                    "I agree that my name, country and comment are stored and delivered with "
                    "this petition. (Required.)"
                )
            )
        self.fields["processing_consent"].label = label

    def clean_comment(self) -> str:
        return check_plain_text(self.cleaned_data["comment"], multiline=True)


class PetitionSignForm(HumanTimedForm, SignForm):
    """The petition page's form: SignForm, sent no sooner than a person could."""

    TIMING_KIND = "sign"


class LetterReportForm(HumanTimedForm, SupporterForm):
    TIMING_KIND = "letters"
    letters = forms.IntegerField(
        label=_("How many letters did you post?"),
        min_value=1,
        max_value=100,
        initial=1,
        error_messages={
            "required": _("Please say how many letters you posted."),
            "invalid": _("Please give a whole number."),
            "min_value": _("Please report between 1 and 100 letters."),
            "max_value": _("Please report between 1 and 100 letters."),
        },
    )
    target = forms.TypedChoiceField(
        label=_("To whom?"), required=False, coerce=int, empty_value=None
    )
    contact_consent = forms.BooleanField(
        required=False,
        label=_("E-mail me the updates on this urgent action, and when it is closed."),
    )
    field_order = [
        "letters",
        "target",
        "name",
        "email",
        "country",
        "language",
        "processing_consent",
        "contact_consent",
    ]

    def __init__(self, *args: Any, targets: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        target_field = self.fields["target"]
        if isinstance(target_field, forms.TypedChoiceField):
            target_field.choices = [("", _("— any of them —")), *targets]
        target_field.error_messages["invalid_choice"] = _("Please choose one of the officials.")
        self.fields["processing_consent"].label = _(
            "I agree that my report is stored to count the letters sent. (Required.)"
        )


class RsvpForm(HumanTimedForm, SupporterForm):
    TIMING_KIND = "rsvp"
    field_order = ["name", "email", "country", "language", "processing_consent"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].required = False
        self.fields["processing_consent"].label = _(
            "I agree that the organisers store my name and e-mail address for this action. "
            "(Required.)"
        )

"""The forms of the policy review pages. Validation of a policy is the service's own."""

from __future__ import annotations

from django import forms

from policies.dsl.locations import LocatedError, locate_errors
from policies.services.uploads import PolicySource, parse_source
from policies.simulation import DEFAULT_RUNS, MAX_RUNS
from worldservice.api.errors import InvalidInput

COMMENT_MAX_CHARS = 10_000  # as the API's review body (policies/api/serializers.py)


class ReviewForm(forms.Form):
    """Approve or Reject, each with a comment (it goes into the review and its audit row)."""

    comment = forms.CharField(
        required=False,
        max_length=COMMENT_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


class NewVersionForm(forms.Form):
    """A new version's text; its errors are kept with their line, column and document path."""

    yaml = forms.CharField(
        label="Policy (YAML)",
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": 28, "cols": 100, "class": "policy-source", "spellcheck": "false"}
        ),
        help_text="The policy document, see docs/policy-language.md.",
    )
    valid_from = forms.DateTimeField(
        required=False,
        help_text="Optional, UTC, for example 2026-01-31 09:00:00.",
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.located_errors: list[LocatedError] = []

    def clean_yaml(self) -> str:
        # Browsers send CRLF from a textarea; store the text as it was typed.
        text: str = self.cleaned_data["yaml"].replace("\r\n", "\n")
        try:
            parse_source(PolicySource(text=text))
        except InvalidInput as exc:
            self.located_errors = locate_errors(text, exc.errors)
            count = len(self.located_errors)
            raise forms.ValidationError(
                f"The policy is not valid: {count} error{'s' if count != 1 else ''}, "
                "shown by line below."
            ) from exc
        return text


class SimulationForm(forms.Form):
    runs = forms.IntegerField(
        label="Recorded runs",
        min_value=1,
        max_value=MAX_RUNS,
        initial=DEFAULT_RUNS,
        help_text=f"How many of the world's latest evaluation runs to replay (at most {MAX_RUNS}).",
    )

"""The one rule for a stored, typed-in address that a public surface turns into a link.

Threat: a source's address or an organisation's website is typed by whoever edits records,
and may come from an import, an old dump or a compromised editor account. Put into an href
(or a JSON-LD `sameAs`, or a Popolo `url` that other sites render as a link), a
`javascript:` or `data:` address would run in our readers' browsers on our origin, where a
reader who signs a petition or a coordinator who is signed in would be the victim.

So every such address goes through `safe_link`, which allows only http, https and mailto and
returns "" for anything else: the page then shows the text without a link. Browsers forgive a
lot (they drop tabs and newlines inside a scheme, strip leading control characters and
spaces, ignore case, treat "//host" as "same scheme, other host"), so instead of looking for
bad schemes we accept only a short list of plain forms and refuse the rest.

`validate_web_address` (and, for URL fields, `validate_web_page`) applies the same rule when an
address is saved, so that an editor is told at once, not surprised later by a page that shows
the address unlinked.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

# A bare host name with an optional path ("example.org/about"), as people type a website:
# linked as https, as browsers do with what is typed into their address bar.
_BARE_ADDRESS = re.compile(r"^[a-z0-9][a-z0-9.-]*\.[a-z]{2,}(/\S*)?$", re.IGNORECASE)
# Characters no plain address holds unescaped; quotes and angle brackets are how an address
# breaks out of an attribute, a backslash is read as "/" by browsers.
_NEVER_IN_ADDRESS = frozenset('<>"`\\')

WEB_PAGE_MESSAGE = _(
    "Enter a web address starting with https:// or http://. Other kinds of address, "
    "such as javascript: or data:, are not allowed."
)
MESSAGE = _(
    "Enter a web address starting with https:// or http:// (or a plain one such as "
    "example.org), or an e-mail address starting with mailto:. Other kinds of address, "
    "such as javascript: or data:, are not allowed."
)


def _plain(value: str) -> bool:
    """No whitespace, control or invisible characters, nothing that breaks out of markup."""
    return value.isprintable() and not any(
        char.isspace() or char in _NEVER_IN_ADDRESS for char in value
    )


def safe_link(value: str) -> str:
    """The address to put in an href, or "" when it is not plainly a web page or e-mail.

    Only whitespace around the address is forgiven (and dropped); anything else odd, a
    control character before the scheme included, drops the link.
    """
    value = value.strip()
    if not value or not _plain(value):
        return ""
    lower = value.lower()
    if lower.startswith(("https://", "http://")):
        # "http:///x" or "https://" alone have no host for the browser to go to.
        return value if urlsplit(value).hostname else ""
    if lower.startswith("mailto:"):
        return value if "@" in value else ""
    if _BARE_ADDRESS.match(value):
        return f"https://{value}"
    return ""


# For a field that holds only a web page's full address (a URLField): Django's own validator,
# which also allows ftp, narrowed to what safe_link links, with a message that says why.
validate_web_page = URLValidator(schemes=["http", "https"], message=WEB_PAGE_MESSAGE)


def validate_web_address(value: str) -> None:
    """Model field validator: refuse what `safe_link` would not link."""
    if value.strip() and not safe_link(value):
        raise ValidationError(MESSAGE, code="invalid")

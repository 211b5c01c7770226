"""The back office's CSV import: upload, a dry-run report by line, column and reason, then
confirm; the same rules as `solidarity import`."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from solidarity.core.models import Section
from solidarity.documentation.models import Person
from solidarity.safety.models import Role
from tests.conftest import verified_login

URL = "/admin/import/"
GOOD = "slug,given_name,family_name,name_ru,section,is_public\n" + (
    "ainur-kurmanov,Ainur,Kurmanov,Айнур Курманов,home,true\n"
)
BAD = GOOD + "bad slug!,Ivan,Petrov,,nowhere,true\n"


@pytest.fixture
def staff_client(staff_client: Client, section: Section) -> Client:
    """The back office's superuser, a coordinator of the section imported into: an import
    writes only where the user's role may (solidarity.api.importers.refusals)."""
    Role.objects.create(
        user=User.objects.get(username="staff"), section=section, role="coordinator"
    )
    return staff_client


def upload(client: Client, text: str, *, only_good: bool = False, kind: str = "people") -> str:
    data: dict[str, object] = {
        "kind": kind,
        "file": SimpleUploadedFile("people.csv", text.encode(), content_type="text/csv"),
    }
    if only_good:
        data["only_good"] = "on"
    response = client.post(URL, data)
    assert response.status_code == 200
    return response.content.decode()


def confirm(client: Client, page: str) -> str:
    """Post the confirmation form the report page holds, as a browser would."""
    response = client.post(URL, _hidden_fields(page) | {"confirm": "Import"})
    assert response.status_code == 200
    return response.content.decode()


def _hidden_fields(page: str) -> dict[str, str]:
    fields = {}
    for tag in re.findall(r'<input type="hidden"[^>]*>', page):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and name.group(1) != "csrfmiddlewaretoken":
            fields[name.group(1)] = html.unescape(value.group(1)) if value else ""
    return fields


def test_the_upload_is_checked_and_imported_only_on_confirmation(
    staff_client: Client, section: Section
) -> None:
    """Uploading only checks; the page offers to import; confirming imports."""
    page = staff_client.get(URL).content.decode()
    assert "Import a CSV file" in page and "name_ru" in page
    page = upload(staff_client, GOOD)
    assert "The import would give: 1 new" in page
    assert not Person.objects.exists()
    page = confirm(staff_client, page)
    assert "Imported people: 1 new" in page
    person = Person.objects.get()
    assert person.is_public and person.names.get().name == "Айнур Курманов"


def test_bad_rows_are_listed_and_block_the_import(staff_client: Client, section: Section) -> None:
    """Each bad cell is a row of the report table; without 'only the good rows' there is
    nothing to confirm; with it, the good rows can be imported."""
    page = upload(staff_client, BAD)
    assert "<td>3</td><td>section</td><td>no section &#x27;nowhere&#x27;</td>" in page
    assert "<td>3</td><td>slug</td>" in page
    assert 'name="confirm"' not in page
    assert not Person.objects.exists()
    page = upload(staff_client, BAD, only_good=True)
    assert "1 bad row (skipped)" in page
    page = confirm(staff_client, page)
    assert "Imported people: 1 new" in page
    assert list(Person.objects.values_list("slug", flat=True)) == ["ainur-kurmanov"]


def test_it_needs_the_permissions_of_what_it_imports(section: Section) -> None:
    """Staff without the right to add and change people cannot import people; with it, can."""
    user = User.objects.create_user("clerk", password="a long test password", is_staff=True)
    client = verified_login(Client(), user)
    response = client.post(
        URL,
        {"kind": "people", "file": SimpleUploadedFile("p.csv", GOOD.encode())},
    )
    assert response.status_code == 403
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_person", "change_person"])
    )
    client = verified_login(Client(), User.objects.get(pk=user.pk))
    assert "no section &#x27;home&#x27;" in upload(client, GOOD)  # no role in it yet
    Role.objects.create(user=user, section=section, role="researcher")
    client = verified_login(Client(), User.objects.get(pk=user.pk))
    assert "would give: 1 new" in upload(client, GOOD)


def test_a_file_that_is_not_utf8_is_refused(staff_client: Client, section: Section) -> None:
    """The form says what is wrong with the file instead of importing mojibake."""
    response = staff_client.post(
        URL, {"kind": "people", "file": SimpleUploadedFile("p.csv", "Jürgen".encode("latin-1"))}
    )
    assert "not UTF-8" in response.content.decode()


def test_the_page_and_the_reasons_are_in_the_users_language(
    staff_client: Client, section: Section
) -> None:
    """A coordinator browsing in Russian gets the screen and each bad row's reason in Russian;
    column names and values are data and stay as they are."""
    staff_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "ru"
    page = staff_client.get(URL).content.decode()
    assert "Импорт файла CSV" in page and "Import a CSV file" not in page
    assert "name_ru" in page
    page = upload(staff_client, BAD)
    assert "<td>3</td><td>section</td><td>нет секции &#x27;nowhere&#x27;</td>" in page
    assert "no section" not in page
    assert "Пробный прогон, ничего не записано. 1 ошибочная строка; исправьте её" in page

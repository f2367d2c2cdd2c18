"""Broken CSV files are refused with the line to fix, and nothing is written.

A lenient reader turns a quote left open into one huge value: the rows after
it vanish into a name and the dry run reports the file clean. These files are
refused at upload, by the dry run, by the import and by the command alike.
"""

from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import translation

from leads import csvio
from leads.csvio import CsvFileError, read_rows
from leads.models import Company, Contact, ImportJob
from leads.services.imports import ImportFileError, leads_import_csv

pytestmark = pytest.mark.django_db

HEADER = "会社名,氏名,メールアドレス,役職,部署,電話番号"


def rows(n: int, start: int = 1) -> list[str]:
    return [
        f"会社{i},人{i},p{i}@c{i}.co.jp,課長,営業部,03-0000-{i:04d}"
        for i in range(start, start + n)
    ]


def csv_bytes(lines: list[str], encoding: str = "utf-8") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


# name -> (file lines, the line the error must name)
BROKEN = {
    # The file: line 2 opens a quote it never closes.
    "unclosed quote": ([HEADER, '会社1,"山田 太郎,p1@c1.co.jp,課長,営業部,03', *rows(3, 2)], 2),
    # Never closed, but later values are quoted: the quote pairs with theirs.
    "unclosed quote before quoted values": (
        [HEADER, *rows(2), '会社3,"山田,p3@c3.co.jp,,,', *rows(3, 4), '会社9,"人9",p9@c9.co.jp,,,'],
        4,
    ),
    "stray quote in a quoted value": (
        [HEADER, *rows(2), '会社3,"山田 "太郎" 様",p3@c3.co.jp,,,', *rows(2, 4)],
        4,
    ),
    "text after a closing quote": ([HEADER, *rows(1), '"会社2"株式会社,人2,p2@c2.co.jp,,,'], 3),
    "a value spanning lines far too long": (
        [HEADER, *rows(1), '会社2,"' + "長い備考\r\n" * 7000 + '",p2@c2.co.jp,,,', *rows(1, 3)],
        3,
    ),
    "a quoted value holding whole rows": (
        [HEADER, '会社1,"人1', *rows(3, 2), '会社5",p5@c5.co.jp,,,,'],
        2,
    ),
    "a NUL character": ([HEADER, *rows(3), "会社4,人4\x00,p4@c4.co.jp,,,", *rows(1, 5)], 5),
}


def _refusal(data: bytes) -> CsvFileError:
    with pytest.raises(ImportFileError) as caught:
        leads_import_csv(data=data, dry_run=True)
    return caught.value


@pytest.mark.parametrize("case", BROKEN)
@pytest.mark.parametrize("encoding", ["utf-8", "cp932"])
def test_a_broken_file_is_refused_by_the_dry_run_naming_the_line(case, encoding):
    lines, line = BROKEN[case]
    with translation.override("en"):
        error = _refusal(csv_bytes(lines, encoding))
    assert error.line == line
    assert f"Line {line}" in error.message and "Nothing was imported" in error.message


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_file_writes_nothing(case):
    lines, _line = BROKEN[case]
    with pytest.raises(ImportFileError):
        leads_import_csv(data=csv_bytes(lines), dry_run=False)
    assert Company.objects.count() == 0 and Contact.objects.count() == 0


def test_the_unclosed_quote_message_says_where_the_quote_opened():
    lines, _line = BROKEN["unclosed quote"]
    with translation.override("en"):
        assert "Line 2 opens a quote" in _refusal(csv_bytes(lines)).message
    with translation.override("ja"):
        assert "2 行目" in _refusal(csv_bytes(lines)).message


@pytest.mark.parametrize("dry_run", [True, False])
def test_the_command_refuses_the_file_naming_the_line(tmp_path, monkeypatch, dry_run):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    path = tmp_path / "unclosed.csv"
    path.write_bytes(csv_bytes(BROKEN["unclosed quote"][0], "cp932"))
    args = [str(path), "--dry-run"] if dry_run else [str(path)]
    with pytest.raises(CommandError) as caught:
        call_command("import_leads", *args, stdout=StringIO(), stderr=StringIO())
    assert "Line 2 opens a quote" in str(caught.value)
    assert Company.objects.count() == 0 and Contact.objects.count() == 0


def test_the_web_upload_refuses_the_file_naming_the_line(client, marketing_user):
    client.force_login(marketing_user)
    upload = SimpleUploadedFile("unclosed.csv", csv_bytes(BROKEN["unclosed quote"][0], "cp932"))
    response = client.post(
        reverse("leads:import-list"),
        {"file": upload, "kind": "leads"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "Line 2 opens a quote" in response.content.decode()
    assert ImportJob.objects.count() == 0 and Contact.objects.count() == 0


def test_a_stored_job_whose_file_is_broken_is_invalid_and_imports_nothing(marketing_user):
    # A job stored before the reader became strict is checked again by the dry run.
    from leads.services import imports

    job = ImportJob.objects.create(
        file_name="old.csv",
        content=csv_bytes(BROKEN["unclosed quote"][0]),
        encoding="utf-8",
        created_by=marketing_user,
    )
    job = imports.import_job_check(job_id=job.id)
    assert job.status == ImportJob.Status.INVALID
    assert "2" in job.message
    assert Contact.objects.count() == 0


def test_sound_quoting_still_reads():
    text = 'a,b\r\n1,"two\r\nlines, fine"\r\n2,"say ""hi"""\r\n3,5"\r\n4,"",\r\n'
    assert list(read_rows(text)) == [
        (1, ["a", "b"]),
        (2, ["1", "two\r\nlines, fine"]),
        (4, ["2", 'say "hi"']),
        (5, ["3", '5"']),  # a quote inside an unquoted value is kept, as Excel reads it
        (6, ["4", "", ""]),
    ]


def test_a_multi_line_memo_with_commas_in_a_small_file_is_not_mistaken_for_rows():
    text = 'name,memo\n山田,"Met at the expo, keen on CRM, call back\nTuesday, 10:00"\n'
    assert [line for line, _f in read_rows(text)] == [1, 2]


def test_a_value_at_excels_cell_limit_is_accepted():
    value = "x\n" * (csvio.MAX_VALUE_CHARS // 2)
    assert len(value) <= csvio.MAX_VALUE_CHARS
    assert [line for line, _f in read_rows(f'a,b\n1,"{value}"\n2,y\n')] == [
        1,
        2,
        value.count("\n") + 3,
    ]

"""manage.py import_leads: exit codes, dry run, errors on stderr."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from leads.models import Company, Contact, IntentSignal

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("import_leads", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_imports_a_file_and_exits_zero():
    out, _err = run(FIXTURES / "leads_cp932.csv")
    assert "cp932" in out and "contacts_created 3" in out
    assert Contact.objects.count() == 3


def test_command_dry_run_writes_nothing():
    out, _err = run(FIXTURES / "leads_cp932.csv", "--dry-run")
    assert "dry run" in out and "companies_created 3" in out
    assert Company.objects.count() == 0


def test_command_exits_non_zero_with_the_errors_on_stderr(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(
        "会社名,メール\r\nサンプル,ok@x.co.jp\r\nサンプル,broken\r\n".encode("utf-8-sig")
    )
    err = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import_leads", str(path), stdout=StringIO(), stderr=err)
    assert "line 3 [メール]" in err.getvalue()
    assert "nothing was imported" in str(caught.value)
    assert Company.objects.count() == 0


def test_command_process_exit_status_is_one_on_errors(tmp_path):
    # CommandError from the command line is exit status 1 (Django's contract).
    path = tmp_path / "mojibake.csv"
    path.write_bytes("会社名\n株式会社サンプル\n".encode("euc_jp"))
    with pytest.raises(SystemExit) as caught:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["manage.py", "import_leads", str(path)])
    assert caught.value.code == 1


def test_command_refuses_an_unreadable_encoding(tmp_path):
    path = tmp_path / "mojibake.csv"
    path.write_bytes("会社名\n株式会社サンプル\n".encode("euc_jp"))
    with pytest.raises(CommandError, match="UTF-8"):
        run(path)


def test_command_imports_intent_data(tmp_path):
    path = tmp_path / "intent.csv"
    path.write_text("domain,topic,strength,date,provider\na.example.jp,CRM,50,2025-01-01,g2\n")
    out, _err = run(path, "--kind", "intent")
    assert "signals_created 1" in out
    assert IntentSignal.objects.count() == 1

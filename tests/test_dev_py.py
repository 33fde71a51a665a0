"""dev.py gives the processes it starts a SITE_URL on the port it serves (PORT), unless one is
configured: links in e-mails and the webhook URL registered in the sandbox reach that server."""

from __future__ import annotations

import hashlib

import dev


def test_site_url_follows_the_port_when_nothing_sets_it():
    assert dev.site_url({}, {}, 8101) == "http://127.0.0.1:8101"


def test_site_url_from_the_environment_or_the_env_file_wins():
    assert dev.site_url({"SITE_URL": "https://portal.example.com"}, {}, 8101) is None
    assert dev.site_url({}, {"SITE_URL": "http://localhost:9000"}, 8101) is None


def test_a_blank_site_url_counts_as_unset():
    assert dev.site_url({"SITE_URL": " "}, {"SITE_URL": ""}, 8101) == "http://127.0.0.1:8101"


def test_env_file_values_reads_what_django_environ_reads(tmp_path):
    path = tmp_path / ".env"
    path.write_text(
        "# a comment\n\nDEBUG=1\nexport SITE_URL='http://localhost:9000'\n"
        'EMAIL_URL="smtp://u:p@h:587"\nnot a setting\n'
    )
    assert dev.env_file_values(path) == {
        "DEBUG": "1",
        "SITE_URL": "http://localhost:9000",
        "EMAIL_URL": "smtp://u:p@h:587",
    }
    assert dev.env_file_values(tmp_path / "missing") == {}


def test_run_env_hands_the_children_the_port_s_site_url(tmp_path, monkeypatch):
    monkeypatch.setattr(dev, "WEB_PORT", 8101)
    monkeypatch.delenv("SITE_URL", raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=1\n")  # as setup() writes it: no SITE_URL pinned
    monkeypatch.setenv("ENV_FILE", str(env_file))
    assert dev.run_env()["SITE_URL"] == "http://127.0.0.1:8101"

    env_file.write_text("SITE_URL=https://tunnel.example.com\n")
    assert "SITE_URL" not in dev.run_env()  # the portal reads it from the .env itself

    monkeypatch.setenv("SITE_URL", "https://portal.example.com")
    assert dev.run_env()["SITE_URL"] == "https://portal.example.com"


def test_the_env_file_setup_writes_pins_no_site_url(tmp_path, monkeypatch):
    # setup() writes .env only where there is none; run it on a copy of ROOT's layout.
    monkeypatch.setattr(dev, "ROOT", tmp_path)
    monkeypatch.setattr(dev, "STAMP", tmp_path / "stamp")
    monkeypatch.setattr(dev, "PYTHON", tmp_path / "python")
    (tmp_path / "python").touch()
    for pyproject in (tmp_path / "pyproject.toml", tmp_path / "stripe-sandbox" / "pyproject.toml"):
        pyproject.parent.mkdir(exist_ok=True)
        pyproject.write_text("")
    monkeypatch.setattr(dev, "SANDBOX_DIR", tmp_path / "stripe-sandbox")
    wanted = hashlib.sha256()
    for _ in range(2):
        wanted.update(hashlib.sha256(b"").digest())
    (tmp_path / "stamp").write_text(wanted.hexdigest())
    dev.setup()
    values = dev.env_file_values(tmp_path / ".env")
    assert values["DEBUG"] == "1"
    assert "SITE_URL" not in values and "EMAIL_URL" not in values

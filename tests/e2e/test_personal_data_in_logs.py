"""No NIK, KK, name or phone in any log line the functions wrote during a registration."""

from __future__ import annotations

from tests.e2e.conftest import Api, log_files


def test_personal_data_never_reaches_the_logs(api: Api) -> None:
    body = api.person(full_name="Rahmawati Kusumaningrum", phone="081398765432", gender="F")
    token, created = api.register(body)
    assert created.status_code == 201
    assert api.wait_for_decision(token)["status"] == "VERIFIED"
    api.call("POST", "/v1/applicants", token, json={**body, "nik": body["nik"][:-1]})  # a rejected body too

    files = log_files(api.cloud)
    assert files, "no function logs were captured"
    text = "\n".join(f.read_text(errors="replace") for f in files)
    assert "profile created" in text  # the logs are there, and they are the functions' logs
    for secret in (body["nik"], body["kk_number"], "Rahmawati", "Kusumaningrum", "81398765432", body["nik"][:-1]):
        assert secret not in text, f"personal data found in logs: {secret[:4]}..."

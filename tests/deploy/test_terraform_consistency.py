"""terraform/ against the code, offline: every .tf parses (python-hcl2), and tests/deploy/model.py
finds no disagreement between what the code needs and what terraform deploys. The broken copies
below show each check catches what it is for: a function without its entry (the `app` function
arriving without terraform), a removed secret mount, a removed resource, a public worker."""

from __future__ import annotations

import copy
import json

import pytest

from tests.deploy.model import TERRAFORM, Code, Terraform, parse_all, problems


@pytest.fixture(scope="module")
def code() -> Code:
    return Code.read()


@pytest.fixture(scope="module")
def tf() -> Terraform:
    return Terraform.load()


def test_every_terraform_file_parses():
    parsed = parse_all()
    assert {"functions.tf", "secrets.tf", "messaging.tf", "iam.tf", "data.tf", "lb.tf", "monitoring.tf",
            "apis.tf", "variables.tf", "versions.tf"} <= set(parsed)


def test_a_syntax_error_fails_the_parse(tmp_path):
    (tmp_path / "broken.tf").write_text('resource "google_pubsub_topic" "x" {\n  name = \n')
    from lark.exceptions import LarkError

    with pytest.raises(LarkError):
        parse_all(tmp_path)


def test_providers_are_pinned():
    versions = parse_all()["versions.tf"]["terraform"][0]["required_providers"][0]
    assert set(versions) == {"google", "google-beta"}
    assert all(v["version"].startswith("~>") for v in versions.values())


def test_terraform_and_the_code_agree(code, tf):
    assert problems(code, tf) == []


def test_a_function_without_its_terraform_entry_fails(code, tf):
    grown = copy.deepcopy(code)
    grown.functions["new_webhook"] = "http"
    assert "functions/new_webhook has no entry in var.functions (terraform/variables.tf)" in problems(grown, tf)
    broken = copy.deepcopy(tf)
    del broken.functions["app"]
    assert "functions/app has no entry in var.functions (terraform/variables.tf)" in problems(code, broken)


def test_a_removed_secret_mount_fails(code, tf):
    broken = copy.deepcopy(tf)
    broken.functions["voice_answer"]["secrets"].remove("twilio_auth_token")
    assert "voice_answer reads twilio_auth_token but terraform does not mount it" in problems(code, broken)


def test_a_secret_mounted_where_no_code_reads_it_fails(code, tf):
    broken = copy.deepcopy(tf)
    broken.functions["sms_status"]["secrets"].append("resend_api_key")
    assert "sms_status is given resend_api_key, which its code does not read" in problems(code, broken)


def test_removing_the_secret_mounts_fails(code, tf):
    broken = copy.deepcopy(tf)
    broken.resources[("google_cloudfunctions2_function", "fn")]["service_config"][0]["dynamic"] = []
    assert any("mounts no secrets" in p for p in problems(code, broken))


@pytest.mark.parametrize("resource", [("google_pubsub_topic", "topic"), ("google_pubsub_subscription", "push"),
                                      ("google_secret_manager_secret_iam_member", "accessor"),
                                      ("google_cloud_scheduler_job", "scheduled"),
                                      ("google_cloud_tasks_queue", "default"),
                                      ("google_compute_backend_service", "fn")])
def test_a_removed_resource_fails(code, tf, resource):
    broken = copy.deepcopy(tf)
    del broken.resources[resource]
    assert problems(code, broken)


def test_a_public_worker_fails(code, tf):
    broken = copy.deepcopy(tf)
    broken.resources[("google_cloud_run_service_iam_member", "everyone")] = {
        "for_each": "${var.functions}", "role": "roles/run.invoker", "member": "allUsers"}
    assert any("makes something public" in p for p in problems(code, broken))


def test_a_wrong_trigger_or_topic_fails(code, tf):
    broken = copy.deepcopy(tf)
    broken.functions["call_completed"]["topic"] = "call.started"
    broken.functions["notify"]["kind"] = "http"
    found = problems(code, broken)
    assert "notify: the code is a task function, terraform says http" in found
    assert any(p.startswith("call_completed: subscribes to call.completed") for p in found)
    assert "terraform has topic call.started, which no code uses" in found


def test_a_missing_data_plane_grant_fails(code, tf):
    broken = copy.deepcopy(tf)
    broken.functions["recording_ingest"]["blobs"] = False
    assert "recording_ingest: blobs is False in terraform, the code says True" in problems(code, broken)


def test_the_index_file_is_what_terraform_reads():
    indexes = json.loads((TERRAFORM / "firestore.indexes.json").read_text())
    assert isinstance(indexes["indexes"], list)
    assert "firestore.indexes.json" in str(Terraform.load().locals.get("firestore_indexes"))

"""schemathesis against the app in process (functions-framework's WSGI app, the document it
serves at ``/app/api/openapi.json``): for every operation, generated requests with an owner's
write token never answer 5xx, and every answer matches the schema the document gives for its
status (status code, content type, body). Bounded: a few examples per operation (~10 s)."""

from __future__ import annotations

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance
from hypothesis import HealthCheck, Phase, given, settings

from shared.models.tenant import Role
from tests.functions.app.api_world import bearer

EXAMPLES = 12


def test_generated_requests_get_documented_answers_and_no_5xx(ports, seeded):
    from tools.wsgi import function_app

    a, _b = seeded
    schema = schemathesis.openapi.from_wsgi("/app/api/openapi.json", function_app("app"))
    headers = bearer(a.tokens[(Role.owner, "write")])
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14
    answered: list[int] = []
    for operation in operations:
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case):
            response = case.call(headers=headers)
            answered.append(response.status_code)
            assert response.status_code < 500, (case.method, case.formatted_path, response.text)
            # Every check but "schema-valid data is accepted": a cursor is opaque (any string of
            # its alphabet fits the schema, only the ones a list gave out are accepted, 422
            # otherwise), and an invitation to an address someone already uses is a 409.
            case.validate_response(response, headers=headers, excluded_checks=[positive_data_acceptance])

        run()
    assert len(answered) >= 5 * len(operations) and any(200 <= s < 300 for s in answered)

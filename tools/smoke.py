"""The smoke test after a deploy (cloudbuild.yaml's `smoke` step, or by hand):

* a synthetic incoming call to ``--to`` (a number assigned to a test business, routed to
  voicemail or the IVR, never to a person), signed as Twilio signs it (the SDK's
  ``RequestValidator``) over ``PUBLIC_BASE_URL/voice_answer``, must answer 200 with TwiML;
* once the ``app`` function exists, its sign-in page must answer 200 with its security headers.

Exit status 0 when both hold, 1 otherwise, with one line per check. The auth token is read from
a file (Cloud Build writes it from Secret Manager), never from the command line.

    python -m tools.smoke --base-url https://z3.example.com --to +13035550100 --auth-token-file token
"""

from __future__ import annotations

import argparse
import secrets
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import requests

from tools.wsgi import function_names

SIGN_IN_PATH = "/app/signin"
SECURITY_HEADERS = ("Content-Security-Policy", "Strict-Transport-Security", "X-Content-Type-Options")


def check_voice_answer(base_url: str, connect: str, to: str, auth_token: str, account_sid: str) -> str | None:
    from twilio.request_validator import RequestValidator

    url = f"{base_url.rstrip('/')}/voice_answer"
    params = {"CallSid": "CA" + secrets.token_hex(16), "AccountSid": account_sid, "From": "+12025550100",
              "To": to, "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01"}
    signature = RequestValidator(auth_token).compute_signature(url, params)
    response = requests.post(f"{connect.rstrip('/')}/voice_answer", data=params, timeout=15,
                             headers={"X-Twilio-Signature": signature})
    if response.status_code != 200:
        return f"voice_answer answered {response.status_code}"
    try:
        root = ET.fromstring(response.content)
    except ET.ParseError:
        return "voice_answer did not answer XML"
    if root.tag != "Response" or not list(root):
        return "voice_answer did not answer TwiML with a verb"
    return None


def check_sign_in(connect: str) -> str | None:
    response = requests.get(f"{connect.rstrip('/')}{SIGN_IN_PATH}", timeout=15)
    if response.status_code != 200:
        return f"the sign-in page answered {response.status_code}"
    # HSTS means something only over https (browsers ignore it on http): required there.
    wanted = [h for h in SECURITY_HEADERS if connect.startswith("https://") or h != "Strict-Transport-Security"]
    missing = [h for h in wanted if h not in response.headers]
    return f"the sign-in page lacks {', '.join(missing)}" if missing else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.smoke")
    parser.add_argument("--base-url", required=True, help="PUBLIC_BASE_URL (what Twilio signs)")
    parser.add_argument("--connect", help="send the requests here instead (default: --base-url)")
    parser.add_argument("--to", required=True, help="a number of the smoke-test business")
    parser.add_argument("--auth-token-file", type=Path, required=True, help="file holding TWILIO_AUTH_TOKEN")
    parser.add_argument("--account-sid", default="AC" + "0" * 32)
    args = parser.parse_args(argv)
    connect = args.connect or args.base_url
    token = args.auth_token_file.read_text().strip()
    failures = []
    problem = check_voice_answer(args.base_url, connect, args.to, token, args.account_sid)
    print(f"smoke: voice_answer: {problem or 'TwiML'}")
    failures += [problem] if problem else []
    if "app" in function_names():
        problem = check_sign_in(connect)
        print(f"smoke: sign-in page: {problem or '200 with security headers'}")
        failures += [problem] if problem else []
    else:
        print("smoke: sign-in page: no app function in this build, not checked")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

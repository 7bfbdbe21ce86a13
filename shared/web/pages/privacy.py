"""The download of a privacy export (the link the "your export is ready" email carries): owners
only, signed in, while the archive lives (7 days; then 410 and the retention sweep deletes it)."""

from __future__ import annotations

from flask import Blueprint, Response

from shared.accounts.errors import AccountError, NotFound
from shared.web import auth

blueprint = Blueprint("privacy", __name__, url_prefix="/privacy")


class Expired(AccountError):
    code = "gone"
    status = 410


@blueprint.get("/exports/<request_id>")
@auth.requires("privacy.request")
def download(request_id: str):
    if not request_id.replace("_", "").isalnum() or len(request_id) > 64:
        raise NotFound("No such export.")
    ports = auth.ports()
    record = ports.store().get(f"tenants/{auth.principal().tenant_id}/exports/{request_id}")
    if record is None or record.get("state") != "ready":
        raise NotFound("No such export.")
    if record["expires_at"] <= auth.now():
        raise Expired("This export has expired (exports are kept 7 days): make a new request.")
    data = ports.blobs().get(record["blob_path"])
    return Response(data, mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="z3-export-{request_id}.zip"'})

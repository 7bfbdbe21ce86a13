"""``scripts/dev``: the whole product in one process on the embedded backend (or, with
``--backend gcp``, on the gcp adapters against the Google emulators: ``tools.gcp_stack``).

* every function under ``http://127.0.0.1:PORT/<function_name>``, each as functions-framework's
  own app (what Cloud Functions runs), mounted side by side;
* the provider sandboxes under ``/_sandbox/<provider>``, with the real SDK clients pointed at
  them through the ordinary settings (``TWILIO_API_BASE_URL`` ...);
* the dispatcher that delivers the local event outbox and task queue to the functions (on gcp,
  Pub/Sub push and Cloud Tasks deliver instead);
* unless ``--no-demo``: a demo business and its simulated day (``tools.demo``), played once per
  data dir;
* the narration on stdout; the JSON log lines in ``<data dir>/stack.log`` (appended), or on
  stderr with ``--logs``;
* the mail viewer at ``/_sandbox/resend/`` (``tools.sandboxes.mailbox_viewer``);
* ``<data dir>/stack.json`` while it runs: its pid and the provider endpoints, which
  ``scripts/ops`` on the same data dir uses instead of the real providers.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from pathlib import Path

from tools.sandboxes.mailbox_viewer import MailboxViewer
from tools.stack_env import configure_environment, sandbox_settings
from tools.wsgi import ServerThread, function_app, function_names, mount

STACK_FILE = "stack.json"
LOG_FILE = "stack.log"


def record_stack(data_dir: Path, base_url: str, endpoints: dict[str, str]) -> Path:
    """Write down, in the data dir, that this process serves the stack and where its provider
    sandboxes are: ``scripts/ops`` on the same data dir then points the SDKs at them instead of
    at the real providers. Removed by :func:`forget_stack` when the stack stops."""
    path = Path(data_dir) / STACK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "url": base_url, "endpoints": endpoints}, indent=2))
    tmp.replace(path)
    return path


def forget_stack(data_dir: Path) -> None:
    (Path(data_dir) / STACK_FILE).unlink(missing_ok=True)


def running_stack(data_dir: Path) -> dict | None:
    """The record of the dev stack serving ``data_dir`` (``{"pid", "url", "endpoints"}``), or
    None when none is recorded or the process that recorded it is gone (a stack that was killed)."""
    try:
        record = json.loads((Path(data_dir) / STACK_FILE).read_text())
        pid = int(record["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, another user's
    return record


def build_app(extra: dict | None = None):
    from werkzeug.wrappers import Request, Response

    from tools.sandboxes.registry import registry

    names = function_names()
    apps = {name: function_app(name) for name in names}
    sandboxes = {f"_sandbox/{name}": factory() for name, (_setting, factory) in registry().items()}
    # The Resend sandbox's emails are readable in a browser at /_sandbox/resend/ (its API stays below it).
    sandboxes["_sandbox/resend"] = MailboxViewer(sandboxes["_sandbox/resend"])

    @Request.application
    def index(request: Request) -> Response:
        if request.path.rstrip("/") in ("", "/_z3/health"):
            return Response(json.dumps({"status": "ok", "functions": names, "sandboxes": sorted(registry())}),
                            mimetype="application/json")
        return Response("not found", status=404)

    root = mount({**apps, **sandboxes, **(extra or {})})
    root.app = index
    return root, names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/dev", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    parser.add_argument("--data-dir", type=Path, default=Path(".z3data"))
    parser.add_argument("--no-demo", action="store_true", help="serve without playing the demo")
    parser.add_argument("--logs", action="store_true",
                        help=f"JSON log lines on stderr instead of <data dir>/{LOG_FILE}")
    parser.add_argument("--backend", choices=("local", "gcp"), default="local",
                        help="local: the embedded backend (default); gcp: the gcp adapters on the Google emulators, "
                             "reused when all four *_EMULATOR_HOST are set, else started (and stopped) here")
    args = parser.parse_args(argv)

    base_url = f"http://127.0.0.1:{args.port}"
    gcp = _open_gcp(base_url) if args.backend == "gcp" else None
    if args.backend == "gcp" and gcp is None:
        return 2
    env = configure_environment(base_url, args.data_dir, gcp.env if gcp else None)
    from shared import runtime
    from shared.logging import configure, get_logger

    log_path = args.data_dir.resolve() / LOG_FILE
    if args.logs:
        configure("devstack")
    else:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        configure("devstack", stream=open(log_path, "a", buffering=1, encoding="utf-8"))
    log = get_logger("z3.dev")
    app, names = build_app(_gcp_mounts() if gcp else None)
    server = ServerThread(app, port=args.port).start()
    dispatcher = _start_delivery(runtime.settings())
    log.info("serving", extra={"url": server.url, "functions": names, "backend": args.backend})
    record_stack(args.data_dir, server.url, {setting: env[setting] for setting in sandbox_settings(server.url)})
    print_line(f"Z3 OS local stack on {server.url}  (data: {args.data_dir.resolve()})")
    if gcp:
        print_line(f"Backend: gcp on the Google emulators ({'reused' if gcp.reused else 'started by this stack'}; "
                   "for scripts/ops: export " + " ".join(f"{k}={v}" for k, v in sorted(gcp.env.items())) + ")")
    for name in names:
        print_line(f"  {server.url}/{name}")
    print_line(f"Mail viewer (emails the stack sent): {server.url}/_sandbox/resend/")
    print_line("Logs (JSON lines): " + ("stderr" if args.logs else str(log_path)))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        if not args.no_demo:
            from tools import demo, simulate

            demo.run(server.url, runtime.current(), dispatcher, out=print_line, play=simulate.play_day)
        print_line("Ready. Ctrl-C to stop.")
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        forget_stack(args.data_dir)
        if dispatcher is not None:
            dispatcher.stop()
        server.stop()
        if gcp:
            gcp.stop()
    return 0


def _open_gcp(base_url: str):
    """The emulated gcp backend (``tools.gcp_stack``), provisioned for this stack's URLs; None
    (after saying why on stderr) when the emulators are unavailable."""
    import sys

    from shared.config import Settings
    from tools.gcp_stack import EmulatorsUnavailable, open_backend

    try:
        return open_backend(Settings(), base_url, say=print_line)
    except EmulatorsUnavailable as exc:
        sys.stderr.write(f"scripts/dev --backend gcp: the Google emulators are unavailable: {exc}\n")
        return None


def _gcp_mounts() -> dict:
    from tools.gcp_stack import KMS_MOUNT
    from tools.sandboxes.kms import KmsSandbox

    return {KMS_MOUNT: KmsSandbox()}


def _start_delivery(settings):
    """The local dispatcher (embedded backend); on gcp, provision the emulators instead: Pub/Sub
    push and Cloud Tasks deliver to the functions' URLs. Returns the dispatcher or None."""
    if settings.is_local:
        from shared.adapters.local import build_dispatcher

        return build_dispatcher(settings).start()
    from shared.adapters.gcp.provision import provision

    provision(settings)
    return None


def print_line(text: str) -> None:
    """The dev stack talks to the developer on stdout; its logs are JSON lines in the log file
    (or on stderr with ``--logs``), never here."""
    import sys

    sys.stdout.write(text + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    raise SystemExit(main())

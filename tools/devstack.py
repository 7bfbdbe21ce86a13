"""``scripts/dev``: the whole product in one process on the embedded backend.

* every function under ``http://127.0.0.1:PORT/<function_name>``, each as functions-framework's
  own app (what Cloud Functions runs), mounted side by side;
* the provider sandboxes under ``/_sandbox/<provider>``, with the real SDK clients pointed at
  them through the ordinary settings (``TWILIO_API_BASE_URL`` ...);
* the dispatcher that delivers the local event outbox and task queue to the functions;
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
from tools.wsgi import ServerThread, function_app, function_names, mount

STACK_FILE = "stack.json"
LOG_FILE = "stack.log"


def sandbox_settings(base_url: str) -> dict[str, str]:
    """Where the provider SDKs are pointed on the local stack (each sandbox speaks its
    provider's wire format)."""
    from tools.sandboxes.registry import registry

    settings: dict[str, str] = {}
    for name, (setting, _factory) in registry().items():
        # one setting (the sandbox's root), or several: setting -> path below the root
        for key, suffix in ({setting: ""} if isinstance(setting, str) else setting).items():
            settings[key] = f"{base_url}/_sandbox/{name}{suffix}"
    return settings


def configure_environment(base_url: str, data_dir: Path) -> dict[str, str]:
    base = base_url.rstrip("/")
    env = {"Z3_BACKEND": "local", "Z3_DATA_DIR": str(data_dir.resolve()), "PUBLIC_BASE_URL": base,
           **sandbox_settings(base)}
    # The dev stack is the process's configuration: the functions it hosts read Settings.
    os.environ.update(env)
    from shared.config import reset_settings

    reset_settings()
    return env


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
    args = parser.parse_args(argv)

    env = configure_environment(f"http://127.0.0.1:{args.port}", args.data_dir)
    from shared import runtime
    from shared.adapters.local import build_dispatcher
    from shared.logging import configure, get_logger

    log_path = args.data_dir.resolve() / LOG_FILE
    if args.logs:
        configure("devstack")
    else:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        configure("devstack", stream=open(log_path, "a", buffering=1, encoding="utf-8"))
    log = get_logger("z3.dev")
    app, names = build_app()
    server = ServerThread(app, port=args.port).start()
    dispatcher = build_dispatcher(runtime.settings()).start()
    log.info("serving", extra={"url": server.url, "functions": names})
    record_stack(args.data_dir, server.url, {setting: env[setting] for setting in sandbox_settings(server.url)})
    print_line(f"Z3 OS local stack on {server.url}  (data: {args.data_dir.resolve()})")
    for name in names:
        print_line(f"  {server.url}/{name}")
    print_line(f"Mail viewer (emails the stack sent): {server.url}/_sandbox/resend/")
    print_line("Logs (JSON lines): " + ("stderr" if args.logs else str(log_path)))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        if not args.no_demo:
            from tools import demo

            demo.run(server.url, runtime.current(), dispatcher, out=print_line)
        print_line("Ready. Ctrl-C to stop.")
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        forget_stack(args.data_dir)
        dispatcher.stop()
        server.stop()
    return 0


def print_line(text: str) -> None:
    """The dev stack talks to the developer on stdout; its logs are JSON lines in the log file
    (or on stderr with ``--logs``), never here."""
    import sys

    sys.stdout.write(text + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    raise SystemExit(main())

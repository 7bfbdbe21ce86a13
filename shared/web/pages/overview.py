"""The overview (on the home page): today's and this week's calls, two server-side SVG charts
(calls per day by how they were handled; answered against missed), and the calls in progress,
whose fragment ``/overview/live`` the static ``live.js`` reloads every few seconds (no inline
script: the CSP forbids it)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template

from shared.tenants import TenantScope
from shared.voice import overview as numbers
from shared.web import auth

blueprint = Blueprint("overview", __name__, url_prefix="/overview")
KIND_LABELS = {"ai": "Answered by AI", "forward": "Forwarded", "voicemail": "Voicemail", "missed": "Missed",
               "other": "Menu or rejected"}
KIND_COLOURS = {"ai": "#1d4ed8", "forward": "#0f766e", "voicemail": "#7c3aed", "missed": "#b42318",
                "other": "#6b7280"}
WIDTH, HEIGHT, PAD = 640, 220, 28


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


def _bars(per_day, groups: list[tuple[str, tuple[str, ...], str]]) -> tuple[list[Bar], list[tuple[float, str]], int]:
    """Stacked bars, one column per day; ``groups`` = (label, kinds summed, colour) bottom up."""
    top = max([sum(c.values()) for _, c in per_day] + [1])
    step = (WIDTH - PAD) / len(per_day)
    bars, labels = [], []
    for i, (day, counts) in enumerate(per_day):
        x, base = PAD + i * step + step * 0.15, HEIGHT - PAD
        for label, kinds, colour in groups:
            value = sum(counts[k] for k in kinds)
            if value:
                h = (HEIGHT - 2 * PAD) * value / top
                base -= h
                bars.append(Bar(round(x, 1), round(base, 1), round(step * 0.7, 1), round(h, 1), colour,
                                f"{day:%a %b} {day.day}: {value} {label.lower()}"))
        labels.append((round(x + step * 0.35, 1), f"{day.day}"))
    return bars, labels, top


def context(tenant) -> dict:
    scope = TenantScope(auth.ports().store(), tenant.id)
    seen = numbers.overview(scope, tenant.zone, auth.now())
    by_kind = [(KIND_LABELS[k], (k,), KIND_COLOURS[k]) for k in numbers.KINDS]
    answered = [("Answered", ("ai", "forward", "voicemail", "other"), "#0f766e"), ("Missed", ("missed",), "#b42318")]
    return {"seen": seen, "kind_labels": KIND_LABELS, "kind_colours": KIND_COLOURS,
            "chart_kinds": _bars(seen.per_day, by_kind), "chart_answered": _bars(seen.per_day, answered),
            "chart_size": (WIDTH, HEIGHT, PAD), "zone": tenant.zone}


@blueprint.get("/live")
@auth.requires("calls.read")
def live():
    scope = TenantScope(auth.ports().store(), auth.principal().tenant_id)
    tenant = scope.tenant()
    return render_template("overview_live.html", live=numbers.in_progress(scope, auth.now()), zone=tenant.zone)

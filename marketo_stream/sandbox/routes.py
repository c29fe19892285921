"""Wires every route module into the app."""

from __future__ import annotations

from marketo_stream.sandbox import control
from marketo_stream.sandbox.api import activities, activity_types, assets, bulk, entities, leads, usage
from marketo_stream.sandbox.app import SandboxApp
from marketo_stream.sandbox.http import Router
from marketo_stream.sandbox.state import SandboxState


def build_app(state: SandboxState) -> SandboxApp:
    api = Router()
    for module in (activity_types, activities, leads, entities, assets, usage, bulk):
        api.include(module.routes(state))
    return SandboxApp(state, api, control.routes(state))

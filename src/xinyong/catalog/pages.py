"""The catalogue in templates: `catalogue()` is the catalogue of the app serving the page.

Pages of every domain extend the portal's and the console's base templates, whose navigation lists the
catalogue's listable types; record tables name each record's type. The catalogue is immutable data read
from files once per process (no database session), so a template may ask for it wherever it needs it."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, pass_context

from xinyong.catalog.schema import Catalog, load_catalog


@pass_context
def catalogue(context: Any) -> Catalog:
    return load_catalog(tuple(context["request"].app.state.settings.catalog_dirs))


def install(env: Environment) -> None:
    env.globals["catalogue"] = catalogue

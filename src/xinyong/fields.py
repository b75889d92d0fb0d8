"""Field types shared by the request schemas of the JSON API."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

# Text that may be stored or compared in the database. PostgreSQL cannot hold the NUL character in text or JSON
# (and no department's data means one), so a request that carries one is refused at the edge, with a 422 that
# names the field, instead of failing deep in a write. Unpaired surrogates are refused by pydantic already.
NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, Field(pattern=NO_NUL)]

"""Which module implements a source's `kind`.

The built-in kinds are modules of this package (`http_api` is `collectors.http_api`); any
other kind is a dotted module path ("package.module"), for plugins and tests. A kind
module has a `build(source, context) -> Collector` function (collectors/base.py).
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from typing import cast

from collectors.base import Collector, Context, Kind, SourceConfig, SourceError

BUILTIN = ("http_api", "sql_table", "file_drop", "cloudevents", "ocel")
_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")


class UnknownKind(SourceError):
    """A kind that names no importable module with a `build` function."""


def module_name(kind: str) -> str:
    """The module of `kind`; raises UnknownKind for a name that is neither built in nor dotted."""
    if kind in BUILTIN:
        return f"collectors.{kind}"
    if _DOTTED.fullmatch(kind):
        return kind
    raise UnknownKind(
        f"unknown kind {kind!r}: use one of {', '.join(BUILTIN)} or a module path such as 'package.module'"
    )


def exists(kind: str) -> bool:
    """Whether `kind` names a module that can be found (without importing the module itself)."""
    try:
        return importlib.util.find_spec(module_name(kind)) is not None
    except (UnknownKind, ImportError, ValueError):
        return False


def resolve(kind: str) -> Kind:
    """The module implementing `kind`."""
    name = module_name(kind)
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        raise UnknownKind(f"kind {kind!r}: cannot import {name} ({exc})") from None
    if not callable(getattr(module, "build", None)):
        raise UnknownKind(f"kind {kind!r}: {name} has no build(source, context) function")
    return cast(Kind, module)


def build(source: SourceConfig, context: Context) -> Collector:
    """The collector for `source`, built by its kind."""
    return resolve(source.kind).build(source, context)

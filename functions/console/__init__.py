"""The staff console (工作台): server-rendered pages over the case API's own functions and scope rules.

Signed in by a one-time link or code, or through WeCom; a server-side session in an HttpOnly cookie; a
CSRF token on every form POST (a POST without it is 403 and changes nothing). Modules: `signin` (sign-in
and out), `pages` (我的任务, 问题清单, the case page and its actions), `photos`, `map`.
"""

from __future__ import annotations

from functions.console import map, pages, photos, signin  # noqa: F401  (each adds its routes)
from functions.console.base import blueprint

__all__ = ["blueprint"]

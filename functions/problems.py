"""Errors as RFC 9457 problem details (application/problem+json), in the client's language."""

from __future__ import annotations

from functools import lru_cache

from flask import Flask, current_app, json, request
from werkzeug.datastructures import LanguageAccept
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_accept_header

TITLES = {
    400: ("请求格式有误", "Malformed request"),
    401: ("需要登录", "Authentication required"),
    403: ("无权访问", "Forbidden"),
    404: ("未找到", "Not found"),
    405: ("不支持该请求方法", "Method not allowed"),
    409: ("状态冲突", "Conflict"),
    413: ("提交内容过大", "Request body too large"),
    415: ("不支持的内容类型", "Unsupported content type"),
    422: ("提交内容未通过校验", "Validation failed"),
    429: ("请求过于频繁", "Too many requests"),
    500: ("服务器内部错误", "Internal server error"),
    503: ("服务暂时不可用，请稍后重试", "Service temporarily unavailable, please retry"),
}


class Problem(Exception):
    """An error answer; `detail` is a (zh, en) pair, `errors` maps field paths to localised messages."""

    def __init__(self, status: int, slug: str, detail: tuple[str, str] | None = None, *,
                 errors: dict[str, list[str]] | None = None, headers: dict[str, str] | None = None,
                 extra: dict | None = None):
        super().__init__(slug)
        self.status, self.slug, self.detail = status, slug, detail
        self.errors, self.headers = errors, headers or {}
        self.extra = extra or {}  # RFC 9457 extension members, e.g. the allowed actions of a 409

    def response(self, lang: str):
        english = lang.startswith("en")
        zh_title, en_title = TITLES.get(self.status, TITLES[500])
        body = {
            "type": f"urn:minqing:problem:{self.slug}",
            "title": en_title if english else zh_title,
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail[1] if english else self.detail[0]
        if request:
            body["instance"] = request.path
        if self.errors is not None:
            body["errors"] = self.errors
        body.update(self.extra)
        response = current_app.response_class(
            json.dumps(body, ensure_ascii=False), status=self.status, mimetype="application/problem+json"
        )
        response.headers.update(self.headers)
        response.headers["Content-Language"] = "en" if english else "zh-CN"
        return response


def pick_lang(default: str = "zh-CN") -> str:
    """`?lang=` first, then Accept-Language; Chinese unless English is asked for."""
    asked = request.args.get("lang", "")[:2].lower() if request.query_string else ""
    if asked == "en":
        return "en"
    if asked == "zh":
        return "zh-CN"
    return _lang_for(request.headers.get("Accept-Language", ""), default)


@lru_cache(maxsize=256)
def _lang_for(accept_language: str, default: str) -> str:
    # Asked on every request; phones send a handful of distinct headers, so each is parsed once.
    best = parse_accept_header(accept_language, LanguageAccept).best_match(["zh-CN", "zh", "en"], default=default)
    return "en" if best and best.startswith("en") else "zh-CN"


def register_problem_handlers(app: Flask) -> None:
    @app.errorhandler(Problem)
    def _problem(error: Problem):
        return error.response(pick_lang())

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        headers = {}
        if error.code == 405 and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
        slug = (error.name or "error").lower().replace(" ", "-")
        return Problem(error.code or 500, slug, headers=headers).response(pick_lang())

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        return Problem(500, "internal-error").response(pick_lang())

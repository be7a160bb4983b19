"""Bilingual (zh/en) validation messages: the one catalogue, and helpers to localise and flatten them."""

from __future__ import annotations

from typing import Any, Mapping

SCHEMA_KEY = "_schema"


class Msg(str):
    """A message whose str value is the English text, carrying `.en` and `.zh`."""

    def __new__(cls, en: str, zh: str) -> Msg:
        self = super().__new__(cls, en)
        self.en = en
        self.zh = zh
        return self

    def format(self, *args: Any, **kwargs: Any) -> Msg:
        # marshmallow calls .format() on its messages; str.format would drop the Chinese text.
        # A Msg argument contributes its own language to each side.
        def pick(value: Any, lang: str) -> Any:
            return getattr(value, lang) if isinstance(value, Msg) else value

        return Msg(
            self.en.format(*(pick(a, "en") for a in args), **{k: pick(v, "en") for k, v in kwargs.items()}),
            zh=self.zh.format(*(pick(a, "zh") for a in args), **{k: pick(v, "zh") for k, v in kwargs.items()}),
        )

    def __reduce__(self):
        return (Msg, (self.en, self.zh))

    def __repr__(self) -> str:
        return f"Msg({self.en!r}, zh={self.zh!r})"


def language(code: str | None) -> str:
    """The one language-code rule: "en" for any English code (en, en-GB), else "zh-CN"."""
    return "en" if (code or "").lower().startswith("en") else "zh-CN"


def localize(message: str, lang: str | None = "zh-CN") -> str:
    """The text of `message` in `lang` ("zh…" by default, or "en…"); plain strings pass through."""
    if not isinstance(message, Msg):
        return message
    return message.en if (lang or "").lower().startswith("en") else message.zh


def errors_by_path(messages: Mapping | list | str, lang: str | None = "zh-CN") -> dict[str, list[str]]:
    """Flatten marshmallow's nested `ValidationError.messages` to {"contact.phone": [text, ...]}."""
    flat: dict[str, list[str]] = {}
    _flatten(messages, (), lang, flat)
    return flat


def _flatten(node: Any, path: tuple[str, ...], lang: str | None, flat: dict[str, list[str]]) -> None:
    if isinstance(node, Mapping):
        for key, child in node.items():
            # A nested schema's own errors belong to the field that holds it.
            step = () if key == SCHEMA_KEY else (str(key),)
            _flatten(child, path + step, lang, flat)
    elif isinstance(node, (list, tuple)):
        for child in node:
            _flatten(child, path, lang, flat)
    else:
        text = node if isinstance(node, str) else str(node)
        flat.setdefault(".".join(path) or SCHEMA_KEY, []).append(localize(text, lang))


# --- The catalogue ---------------------------------------------------------------------------------------

REQUIRED = Msg("This field is required.", zh="此项为必填。")
REQUIRED_FOR_MODE = Msg("Required when mode is {mode}.", zh="{mode}时此项为必填。")
NOT_ALLOWED_FOR_MODE = Msg("Not allowed when mode is {mode}.", zh="{mode}时不能填写此项。")
NULL = Msg("This field may not be null.", zh="此项不能为 null。")
INVALID_VALUE = Msg("Invalid value.", zh="取值无效。")
UNKNOWN_FIELD = Msg("Unknown field.", zh="不允许的字段。")
NOT_AN_OBJECT = Msg("Invalid input type: expected an object.", zh="输入类型无效：应为对象。")

NOT_STRING = Msg("Not a valid string.", zh="不是有效的文本。")
TOO_LONG = Msg("Must be at most {max} characters.", zh="不能超过{max}个字符。")
FORBIDDEN_CHARACTERS = Msg("Contains control characters or invalid characters.", zh="包含控制字符或无效字符。")
INVALID_CODE = Msg(
    "Use at most {max} letters, digits and the symbols {symbols}.",
    zh="最多{max}个字符，只能包含字母、数字和符号 {symbols}。",
)
NOT_ONE_OF = Msg("Must be one of: {choices}.", zh="必须是以下之一：{choices}。")

NOT_INTEGER = Msg("Not a valid integer.", zh="不是有效的整数。")
NOT_NUMBER = Msg("Not a valid number.", zh="不是有效的数字。")
NUMBER_TOO_LARGE = Msg("Number too large.", zh="数值过大。")
NOT_FINITE = Msg("NaN and infinity are not allowed.", zh="不允许 NaN 或无穷大。")
OUT_OF_RANGE = Msg("Must be between {min} and {max}.", zh="必须在{min}到{max}之间。")
NOT_BOOLEAN = Msg("Not a valid boolean (true or false).", zh="不是有效的布尔值（true 或 false）。")
NOT_LIST = Msg("Not a valid list.", zh="不是有效的列表。")
TOO_MANY_ITEMS = Msg("At most {max} items.", zh="最多{max}项。")
DUPLICATE_ITEMS = Msg("Contains duplicate items.", zh="包含重复项。")
NOT_UUID = Msg("Not a valid UUID.", zh="不是有效的 UUID。")

INVALID_MOBILE = Msg(
    "Not a valid mainland China mobile number (11 digits starting with 13–19).",
    zh="不是有效的手机号码（以13–19开头的11位数字）。",
)
INVALID_PHONE = Msg(
    "Not a valid phone number: give an 11-digit mobile or a landline such as 027-88881234.",
    zh="不是有效的电话号码：请填写11位手机号或固定电话（如027-88881234）。",
)
USCC_LENGTH = Msg("A Unified Social Credit Code has 18 characters.", zh="统一社会信用代码应为18位。")
USCC_CHARACTERS = Msg(
    "Contains characters not used in Unified Social Credit Codes (letters I, O, S, V, Z are never used).",
    zh="统一社会信用代码含有无效字符（不使用字母I、O、S、V、Z）。",
)
USCC_DIVISION = Msg(
    "Characters 3–8 must be digits (administrative division code).",
    zh="第3至8位应为数字（登记管理机关行政区划码）。",
)
USCC_CHECK = Msg(
    "The check character (the last one) does not match; please check the code.",
    zh="校验码（最后一位）不正确，请核对代码。",
)

OUTSIDE_CHINA = Msg("Must be between {min} and {max} (within China).", zh="必须在{min}到{max}之间（中国境内）。")
COORDINATES_TOGETHER = Msg("Latitude and longitude must be given together.", zh="纬度和经度须同时填写。")
INVALID_ATTACHMENT_KEY = Msg("Not a valid attachment key.", zh="不是有效的附件标识。")
FORGED_ATTACHMENT_KEY = Msg(
    "This photo was not uploaded through this service (unknown or altered key).",
    zh="该照片不是通过本服务上传的（附件标识无效或已被改动）。",
)
PHOTO_TOO_LARGE = Msg("The photo is larger than {max} MB.", zh="照片超过{max} MB。")
PHOTO_TOO_MANY_PIXELS = Msg("The photo has more than {max} million pixels; send a smaller one.",
                            zh="照片像素超过{max}百万，请换一张较小的照片。")
PHOTO_WRONG_TYPE = Msg("Only JPEG, PNG, WebP and HEIC photos are accepted.", zh="只接受 JPEG、PNG、WebP 或 HEIC 格式的照片。")

INVALID_DATETIME = Msg(
    "Not a valid ISO 8601 date and time (e.g. 2026-11-20T21:15:00+08:00).",
    zh="不是有效的日期时间（ISO 8601格式，如2026-11-20T21:15:00+08:00）。",
)
DATETIME_IN_FUTURE = Msg("Cannot be in the future.", zh="不能晚于当前时间。")
DATETIME_TOO_OLD = Msg("Cannot be more than {days} days ago.", zh="不能早于{days}天前。")

UNKNOWN_COMMUNITY = Msg("Unknown community.", zh="未知的社区。")
INVALID_COMMUNITY_CODE = Msg(
    "Not a valid community code (lowercase letters, digits, _ and -, at most 32 characters).",
    zh="不是有效的社区代码（小写字母、数字、_ 和 -，最多32个字符）。",
)
ANONYMOUS_WITH_IDENTITY = Msg(
    "An anonymous report cannot include a name or phone number.",
    zh="匿名上报不能填写姓名或电话。",
)

# The case workflow
INVALID_DATE = Msg("Not a valid date (YYYY-MM-DD).", zh="不是有效的日期（YYYY-MM-DD）。")
REQUIRED_FOR_ACTION = Msg("Required for this action.", zh="此操作须填写此项。")
NOT_FOR_ACTION = Msg("Not allowed for this action or this kind of case.", zh="此操作或此类案件不能填写此项。")
UNKNOWN_STAFF = Msg("Unknown staff member: {ids}.", zh="未知的工作人员：{ids}。")
UNKNOWN_CASE = Msg("No such case.", zh="没有这个案件。")
SAME_CASE = Msg("A case cannot duplicate itself.", zh="案件不能标记为自身的重复。")
DATE_ORDER = Msg("The start date is after the end date.", zh="开始日期晚于结束日期。")
INVALID_URL = Msg("Not a valid http(s) address.", zh="不是有效的 http(s) 网址。")


# 平安合伙人: a patrol's finding fixed on the spot, and the patrol roster.
RECTIFIED_NEEDS_PATROL = Msg("Only a patrol's finding can be marked as fixed on the spot.",
                             zh="只有巡查上报可以标记为当场整改。")
RECTIFICATION_REQUIRED = Msg("Say what was done to fix it.", zh="请填写整改情况。")
RECTIFICATION_WITHOUT_FIX = Msg("Only a finding fixed on the spot has a rectification.",
                                zh="只有当场整改的发现才填写整改情况。")
UNKNOWN_VOLUNTEER = Msg("No active volunteer has this id in the roster.", zh="花名册中没有此编号的在册志愿者。")
INVALID_EMAIL = Msg("Not a valid e-mail address.", "不是有效的电子邮箱地址。")
NOTIFY_NEEDS_CONTACT = Msg(
    "To be told when it is handled, give a mobile phone or an e-mail address.",
    "需要办理结果通知时，请填写手机号或电子邮箱。",
)
NOT_THEIR_PHOTO = Msg("Only the resident's own photos of this case can be published.", "只能公开居民为本案上传的照片。")
CHECK_PHOTO_REQUIRED = Msg("Add a photo of what you found.", zh="请拍一张核查时的现场照片。")

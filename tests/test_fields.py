import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import ValidationError

from schemas import Msg, errors_by_path, localize
from schemas.fields import (
    LATITUDE_BOUNDS,
    LONGITUDE_BOUNDS,
    USCC,
    USCC_CHARSET,
    AttachmentKey,
    Latitude,
    Longitude,
    MobilePhone,
    Text,
    uscc_check_char,
)

uscc_bodies = st.builds(
    lambda head, division, tail: head + division + tail,
    st.text(USCC_CHARSET, min_size=2, max_size=2),
    st.text("0123456789", min_size=6, max_size=6),
    st.text(USCC_CHARSET, min_size=9, max_size=9),
)
mobiles = st.builds(lambda second, rest: "1" + second + rest,
                    st.sampled_from("3456789"), st.text("0123456789", min_size=9, max_size=9))


@given(uscc_bodies)
def test_uscc_with_correct_check_character_is_accepted(body):
    assert USCC().deserialize(body + uscc_check_char(body)) == body + uscc_check_char(body)


@given(uscc_bodies)
def test_uscc_with_any_other_check_character_is_rejected(body):
    for wrong in USCC_CHARSET.replace(uscc_check_char(body), ""):
        with pytest.raises(ValidationError):
            USCC().deserialize(body + wrong)


def test_uscc_check_character_matches_a_published_code():
    assert uscc_check_char("91350100M000100Y4") == "3"


@given(mobiles)
def test_mainland_mobiles_are_accepted(mobile):
    assert MobilePhone().deserialize(mobile) == mobile


@given(mobiles, st.sampled_from(["+86", "86", "0086", "+86 ", ""]))
def test_mobiles_with_country_code_and_separators_are_stripped(mobile, prefix):
    spaced = f"{prefix}{mobile[:3]} {mobile[3:7]}-{mobile[7:]}"
    assert MobilePhone().deserialize(spaced) == mobile


@given(st.sampled_from(["10", "11", "12"]), st.text("0123456789", min_size=9, max_size=9))
def test_numbers_starting_10_11_12_are_not_mobiles(start, rest):
    with pytest.raises(ValidationError):
        MobilePhone().deserialize(start + rest)


@given(st.floats(*LATITUDE_BOUNDS), st.floats(*LONGITUDE_BOUNDS))
def test_coordinates_inside_china_are_accepted(lat, lon):
    assert (Latitude().deserialize(lat), Longitude().deserialize(lon)) == (lat, lon)


@given(st.floats().filter(lambda x: not LATITUDE_BOUNDS[0] <= x <= LATITUDE_BOUNDS[1]))
def test_latitudes_outside_china_are_rejected(lat):
    with pytest.raises(ValidationError):
        Latitude().deserialize(lat)


@given(st.floats().filter(lambda x: not LONGITUDE_BOUNDS[0] <= x <= LONGITUDE_BOUNDS[1]))
def test_longitudes_outside_china_are_rejected(lon):
    with pytest.raises(ValidationError):
        Longitude().deserialize(lon)


any_character = st.characters(exclude_categories=())


@given(st.text(any_character), st.booleans())
def test_text_raises_nothing_but_validation_error(text, multiline):
    try:
        result = Text(50, multiline=multiline, required=True).deserialize(text)
    except ValidationError:
        return
    assert isinstance(result, str) and 0 < len(result) <= 50


@given(st.one_of(st.none(), st.integers(), st.floats(), st.binary(), st.lists(st.text()),
                 st.dictionaries(st.text(), st.text())))
def test_text_rejects_non_strings(value):
    with pytest.raises(ValidationError):
        Text(50).deserialize(value)


@given(st.text(min_size=1), st.sampled_from(["\x00", "\x01", "\x1b", "\x7f", "\x9f", "\ud800"]), st.text())
def test_text_rejects_control_characters_anywhere(before, control, after):
    with pytest.raises(ValidationError):
        Text(1000, multiline=True).deserialize(before + control + after + ".")


@pytest.mark.parametrize("key", ["photos/2026/a.jpg", "a", "A1_b-c.d/e"])
def test_attachment_keys_accepted(key):
    assert AttachmentKey().deserialize(key) == key


@pytest.mark.parametrize("key", ["../a", "a/../b", "a/..", "/a", ".hidden", "a b", "a" * 129, "a\nb"])
def test_attachment_keys_rejected(key):
    with pytest.raises(ValidationError):
        AttachmentKey().deserialize(key)


def test_msg_is_its_english_text():
    assert Msg("Required.", zh="必填。") == "Required."


def test_msg_format_keeps_both_languages():
    formatted = Msg("At most {max}.", zh="最多{max}。").format(max=6)
    assert (formatted.en, formatted.zh) == ("At most 6.", "最多6。")


def test_msg_arguments_contribute_their_own_language():
    formatted = Msg("Mode {mode}.", zh="{mode}模式。").format(mode=Msg("request", zh="申请"))
    assert (formatted.en, formatted.zh) == ("Mode request.", "申请模式。")


def test_msg_survives_pickling():
    message = pickle.loads(pickle.dumps(Msg("Required.", zh="必填。")))
    assert (message.en, message.zh) == ("Required.", "必填。")


@pytest.mark.parametrize("lang, text", [("zh-CN", "必填。"), ("zh", "必填。"), ("en", "Required."), ("en-GB", "Required.")])
def test_localize_picks_the_language(lang, text):
    assert localize(Msg("Required.", zh="必填。"), lang) == text


def test_localize_passes_plain_strings_through():
    assert localize("plain", "zh-CN") == "plain"


def test_errors_by_path_flattens_nested_and_indexed_errors():
    required = Msg("Required.", zh="必填。")
    messages = {"contact": {"phone": [required]}, "photos": {0: [required]}, "_schema": [required]}
    assert errors_by_path(messages, "en") == {"contact.phone": ["Required."], "photos.0": ["Required."],
                                              "_schema": ["Required."]}


def test_errors_by_path_puts_nested_schema_errors_on_the_nested_field():
    messages = {"location": {"_schema": [Msg("Bad.", zh="错。")]}}
    assert errors_by_path(messages, "zh-CN") == {"location": ["错。"]}

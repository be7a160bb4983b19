"""QR posters: the printed code decodes to the prefilled form's URL, small enough to scan from a metre."""

import io
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from PIL import Image

from minqing.cli import main
from minqing.directory import default_directory_path, load_directory
from minqing.posters import form_url, poster_pdf, poster_png, posters_for, posters_from_csv, qr_code

BASE = "https://minqing.example.gov.cn"


@pytest.fixture()
def directory():
    return load_directory(default_directory_path())


def decoded(image) -> list[str]:
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]


def test_a_spot_poster_points_at_the_prefilled_locked_form(directory):
    [poster] = posters_for(directory, BASE, "hazard", spot="qjj-syb-03")
    assert poster.url == f"{BASE}/f/hazard?spot=qjj-syb-03&lock=1"
    assert (poster.community_name, poster.place) == ("千家街社区", "省一保小区3栋")


@pytest.mark.parametrize("category, highest", [(None, 6), ("fire_safety", 7)])
def test_the_qr_code_is_a_low_version_at_high_error_correction(directory, category, highest):
    for poster in posters_for(directory, BASE, "hazard", every_spot=True, category=category):
        code = qr_code(poster.url)
        assert code.error in ("Q", "H")
        assert code.version <= highest, (poster.url, code.version)
        # Printed 150 mm wide: modules of 2.5 mm or more scan from well over a metre.
        assert 150 / code.symbol_size(border=4)[0] >= 2.5


def test_the_png_decodes_to_the_form_url(directory):
    [poster] = posters_for(directory, BASE, "hazard", spot="jl-05-2")
    assert decoded(Image.open(io.BytesIO(poster_png(poster)))) == [poster.url]


def test_the_a4_pdf_decodes_to_the_form_url_and_carries_the_chinese_text(directory):
    [poster] = posters_for(directory, BASE, "consultation", community="jiangling", mode="request")
    page = pypdfium2.PdfDocument(poster_pdf(poster))[0]
    assert [round(v) for v in page.get_size()] == [595, 842]  # A4 in points
    assert decoded(page.render(scale=2).to_pil()) == [poster.url]
    text = page.get_textpage().get_text_range()
    assert "江零社区" in text and "咨询服务" in text and "微信扫一扫" in text


def test_posters_from_a_csv_of_spots(directory, tmp_path):
    sheet = tmp_path / "spots.csv"
    sheet.write_text("community,spot,name\njiangling,jl-05-2,\njiangling,jl-new-1,江零社区新设点位\n",
                     encoding="utf-8-sig")
    known, new = posters_from_csv(sheet, directory, BASE, "hazard")
    assert known.url == f"{BASE}/f/hazard?spot=jl-05-2&lock=1" and known.place == "江零社区5栋2单元"
    assert new.url == f"{BASE}/f/hazard?c=jiangling&spot=jl-new-1&lock=1" and new.place == "江零社区新设点位"


def test_a_csv_with_an_unknown_community_names_the_line(directory, tmp_path):
    sheet = tmp_path / "spots.csv"
    sheet.write_text("community,spot,name\nnowhere,x1,某处\n")
    with pytest.raises(Exception, match=r"spots.csv:2: unknown community 'nowhere'"):
        posters_from_csv(sheet, directory, BASE, "hazard")


def test_the_command_prints_every_spot_in_every_format(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MINQING_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("MINQING_SECRET_KEY", "poster-test-" + "k" * 32)
    assert main(["qr", "--all-spots", "--format", "pdf,svg,png", "--out", str(tmp_path / "out"),
                 "--base-url", BASE]) == 0
    made = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(made) == 4 * 3 and "hazard-qjj-syb-03.svg" in made
    assert "QR version" in capsys.readouterr().out


def test_a_form_url_names_only_what_the_poster_fixes():
    assert form_url(BASE, "enterprise", community="shouyi", lock=False) == f"{BASE}/f/enterprise?c=shouyi"


def test_the_png_poster_carries_the_community_and_the_instruction(directory):
    from minqing.posters import CJK_FONTS

    if not any(Path(path).exists() for path in CJK_FONTS):
        pytest.skip("no Chinese font on this machine (.ci/run installs fonts-wqy-microhei)")
    poster = next(iter(posters_for(directory, "https://minqing.example.gov.cn", "hazard", spot="qjj-syb-03")))
    image = Image.open(io.BytesIO(poster_png(poster)))
    assert image.size == (1240, 1754)  # A4 at 150 dpi
    assert decoded(image) == [poster.url]

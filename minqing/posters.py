"""QR posters (二维码海报) for the phone forms: one per spot or community, as A4 PDF, SVG or PNG.

The QR code holds the shortest URL that opens the prefilled form (a spot code alone names its community,
since spot codes are unique across the street), so it stays a low version at error correction Q or H and
scans from a metre away even when the poster is dirty or creased.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from schemas.choices import KINDS

FORMATS = ("pdf", "svg", "png")
INSTRUCTIONS = {
    "hazard": "发现安全隐患？微信扫一扫，一分钟上报，可附照片。",
    "consultation": "需要社区服务？微信扫一扫，在线申请，专人回访。",
    "enterprise": "企业有困难？微信扫一扫，提交诉求，专人对接。",
}


class PosterError(Exception):
    """A spot, community or CSV row that cannot make a poster; the message says which and why."""


@dataclass(frozen=True)
class Poster:
    kind: str
    community_name: str
    place: str  # the spot's name, or "" for a whole community
    url: str
    filename: str

    @property
    def title(self) -> str:
        return KINDS[self.kind].zh

    @property
    def instruction(self) -> str:
        return INSTRUCTIONS[self.kind]


def form_url(base_url: str, kind: str, *, community: str | None = None, spot: str | None = None,
             category: str | None = None, mode: str | None = None, lock: bool = True) -> str:
    params = {"c": community, "spot": spot, "cat": category, "mode": mode, "lock": "1" if lock else None}
    return f"{base_url.rstrip('/')}/f/{kind}?" + urlencode({k: v for k, v in params.items() if v})


def qr_code(url: str):
    import segno

    # Q at least; segno raises it to H whenever that fits in the same version.
    return segno.make_qr(url, error="q", boost_error=True)


def posters_for(directory, base_url: str, kind: str, *, community: str | None = None, spot: str | None = None,
                every_spot: bool = False, category: str | None = None, mode: str | None = None,
                lock: bool = True) -> list[Poster]:
    """Posters from the directory: one spot, every spot (of one community or the street), or a community."""
    def make(c, s=None):
        # A known spot names its community: the shorter URL makes a smaller QR code.
        url = form_url(base_url, kind, community=None if s else c.code, spot=s.code if s else None,
                       category=category, mode=mode, lock=lock)
        return Poster(kind, c.name.zh, s.name if s else "", url, f"{kind}-{s.code if s else c.code}")

    if spot:
        for c in directory.communities.values():
            for s in c.spots:
                if s.code == spot:
                    return [make(c, s)]
        raise PosterError(f"spot {spot!r} is not in the directory")
    if community and community not in directory.communities:
        raise PosterError(f"community {community!r} is not in the directory")
    chosen = [directory.communities[community]] if community else list(directory.communities.values())
    if every_spot:
        return [make(c, s) for c in chosen for s in c.spots]
    return [make(c) for c in chosen]


def posters_from_csv(path: Path, directory, base_url: str, kind: str, *, lock: bool = True) -> list[Poster]:
    """Posters from a CSV with the columns community, spot, name (name: the place as printed)."""
    posters, problems = [], []
    with open(path, newline="", encoding="utf-8-sig") as f:  # Excel saves UTF-8 CSV with a BOM
        for line, row in enumerate(csv.DictReader(f), start=2):
            code, spot, place = (row.get(k, "").strip() for k in ("community", "spot", "name"))
            found = directory.communities.get(code)
            if found is None:
                problems.append(f"{path}:{line}: unknown community {code!r}")
                continue
            known = next((s for s in found.spots if s.code == spot), None)
            place = place or (known.name if known else "")
            # A spot not (yet) in the directory still gets a poster; its URL then names the community too.
            url = form_url(base_url, kind, community=None if known else code, spot=spot or None, lock=lock)
            posters.append(Poster(kind, found.name.zh, place, url, f"{kind}-{spot or code}"))
    if problems:
        raise PosterError("\n".join(problems))
    return posters


def write_poster(poster: Poster, out_dir: Path, fmt: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{poster.filename}.{fmt}"
    data = {"pdf": poster_pdf, "svg": poster_svg, "png": poster_png}[fmt](poster)
    path.write_bytes(data)
    return path


# Fonts with Chinese glyphs that Debian and most Linux desktops ship; Pillow has none of its own.
CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)


def poster_png(poster: Poster) -> bytes:
    """An A4 poster at 150 dpi; with no Chinese font on the machine, the QR code alone (and a warning)."""
    from PIL import Image, ImageDraw, ImageFont

    out = io.BytesIO()
    font_path = next((path for path in CJK_FONTS if Path(path).exists()), None)
    if font_path is None:
        import logging

        logging.getLogger("minqing.posters").warning("no Chinese font found: the PNG holds the QR code only")
        qr_code(poster.url).save(out, kind="png", scale=12, border=4)
        return out.getvalue()
    dots = 150 / 25.4  # per mm
    page = Image.new("RGB", (round(210 * dots), round(297 * dots)), "white")
    draw = ImageDraw.Draw(page)
    for y, size, text in ((40, 13, poster.community_name), (56, 11, poster.title), (70, 7, poster.place),
                          (250, 7.5, poster.instruction)):
        if text:
            draw.text((page.width / 2, y * dots), text, fill="black", anchor="ms",
                      font=ImageFont.truetype(font_path, round(size * dots)))
    qr = qr_code(poster.url)
    qr_png = io.BytesIO()
    qr.save(qr_png, kind="png", scale=max(1, round(150 * dots / qr.symbol_size(scale=1, border=4)[0])), border=4)
    code = Image.open(qr_png)
    page.paste(code, ((page.width - code.width) // 2, round(85 * dots)))
    draw.text((page.width / 2, 268 * dots), poster.url, fill="#555555", anchor="ms",
              font=ImageFont.truetype(font_path, round(3.5 * dots)))
    page.save(out, format="PNG", optimize=True)
    return out.getvalue()


def poster_svg(poster: Poster) -> bytes:
    """An A4 poster (210 × 297 mm) in SVG; the text uses the printer's own fonts."""
    qr = qr_code(poster.url)
    modules = qr.symbol_size(scale=1, border=4)[0]
    size = 150  # mm
    scale = size / modules
    inner = qr.svg_inline(scale=scale, border=4, omitsize=False)
    lines = [
        (40, 13, 700, poster.community_name),
        (56, 11, 700, poster.title),
        (70, 7, 400, poster.place),
        (250, 7.5, 700, poster.instruction),
    ]
    text = "".join(
        f'<text x="105" y="{y}" font-size="{fs}" font-weight="{w}" text-anchor="middle">{escape(s)}</text>'
        for y, fs, w, s in lines if s)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" width="210mm" height="297mm" viewBox="0 0 210 297" '
        'font-family="Noto Sans CJK SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, sans-serif">'
        '<rect width="210" height="297" fill="#fff"/>'
        f'{text}<g transform="translate({(210 - size) / 2},{85})">{inner}</g>'
        f'<text x="105" y="268" font-size="3.5" text-anchor="middle" fill="#555">{escape(poster.url)}</text>'
        '</svg>'
    ).encode()


def poster_pdf(poster: Poster) -> bytes:
    """An A4 poster in PDF, with reportlab's built-in Chinese font (STSong-Light): nothing to download."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4)
    page.setTitle(f"{poster.community_name} {poster.title} {poster.place}".strip())
    width, height = A4
    for y, size, text in ((257, 34, poster.community_name), (240, 28, poster.title), (229, 16, poster.place)):
        if text:
            page.setFont("STSong-Light", size)
            page.drawCentredString(width / 2, y * mm, text)
    qr = qr_code(poster.url)
    modules = qr.symbol_size(scale=1, border=0)[0]
    side = 150 * mm
    cell = side / modules
    left, top = (width - side) / 2, 215 * mm
    for row, bits in enumerate(qr.matrix):
        col = 0
        while col < modules:  # one rectangle per run of dark modules: smaller file, no hairline gaps
            if bits[col]:
                start = col
                while col < modules and bits[col]:
                    col += 1
                page.rect(left + start * cell, top - (row + 1) * cell, (col - start) * cell, cell, stroke=0, fill=1)
            col += 1
    page.setFont("STSong-Light", 20)
    page.drawCentredString(width / 2, 45 * mm, poster.instruction)
    page.setFont("Helvetica", 10)
    page.drawCentredString(width / 2, 30 * mm, poster.url)
    page.showPage()
    page.save()
    return out.getvalue()

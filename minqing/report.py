"""`minqing report --month 2026-11`: the month's outcome list as PDF (reportlab) or XLSX (openpyxl),
with the same figures as the dashboard. The PDF uses reportlab's built-in CID font STSong-Light, so
Chinese prints without downloading or shipping a font."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from minqing.outcomes import HEADLINES, RATES, WANTED, Outcomes, outcomes, shown
from schemas.choices import ENTERPRISE_CATEGORIES, HAZARD_CATEGORIES, KINDS, SERVICES

CATEGORY_NAMES = {"hazard": HAZARD_CATEGORIES, "consultation": SERVICES, "enterprise": ENTERPRISE_CATEGORIES}


def month_bounds(month: str) -> tuple[date, date]:
    """"2026-11" → (2026-11-01, 2026-11-30); ValueError for anything else."""
    first = date.fromisoformat(month + "-01")
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


def month_figures(engine, month: str) -> Outcomes:
    from minqing.store import counts

    since, until = month_bounds(month)
    with engine.connect() as connection:
        return outcomes(counts.outcome_rows(connection, WANTED, since=since, until=until), months=[month],
                        medians=counts.median_seconds(connection, since=since, until=until, by_month=False))


def tables(figures: Outcomes, directory) -> list[tuple[str, list[list[str]]]]:
    """The report's tables, each (title, rows with a header row first); Chinese, as the office files it."""
    summary = [["指标", "数值"]] + [[zh, shown(figures.headline[key])] for key, _, _, zh, _ in HEADLINES]
    summary += [[zh, shown(figures.rates.get(key), key)] for key, zh, _ in RATES]
    names = [zh for _, _, _, zh, _ in HEADLINES]
    keys = [key for key, *_ in HEADLINES]
    community = [["社区", *names]] + [
        [c.name.zh, *(shown(figures.by_community.get(code, {}).get(k, 0)) for k in keys)]
        for code, c in directory.communities.items()]
    category = [["类型", "类别", *names]] + [
        [KINDS[kind].zh, CATEGORY_NAMES[kind][cat].zh if cat in CATEGORY_NAMES[kind] else cat,
         *(shown(values.get(k, 0)) for k in keys)]
        for (kind, cat), values in sorted(figures.by_category.items())]
    return [("总体情况", summary), ("分社区", community), ("分类别", category)]


PATROL_HEADER = ["社区", "队伍", "巡查轮次", "排查隐患", "当场整改", "交办整改", "核查已整改", "核查未整改"]


def patrol_table(engine, directory, month: str) -> tuple[str, list[list]]:
    """平安合伙人 for the month: teams' totals by community (patrol_tallies); teams with fewer than 5 findings
    in the month are summed as 其他队伍, as on the dashboard."""
    from minqing.domain.patrol import METRICS, OTHER_TEAMS, team_totals
    from minqing.store import patrol_counts

    with engine.connect() as connection:
        rows = patrol_counts.patrol_rows(connection, since=month, until=month)
    communities = directory.communities
    body = [[communities[r.community].name.zh if r.community in communities else r.community,
             r.team or OTHER_TEAMS[0], *(shown(r.values[m]) for m in METRICS)] for r in team_totals(rows)]
    return "平安合伙人", [PATROL_HEADER] + (body or [["本月暂无巡查记录", "", *("" for _ in METRICS)]])


def write_xlsx(path: Path, title: str, sections) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for name, rows in sections:
        sheet = book.create_sheet(name)
        sheet.append([title])
        sheet["A1"].font = Font(bold=True, size=14)
        for i, row in enumerate(rows):
            sheet.append(row)
            if i == 0:
                for cell in sheet[sheet.max_row]:
                    cell.font = Font(bold=True)
        for column in sheet.columns:
            sheet.column_dimensions[column[0].column_letter].width = max(
                12, *(len(str(c.value or "")) * 2 for c in column[1:]))
    book.save(path)


def write_pdf(path: Path, title: str, sections) -> None:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    heading = ParagraphStyle("h", fontName="STSong-Light", fontSize=16, leading=22)
    subheading = ParagraphStyle("h2", fontName="STSong-Light", fontSize=12, leading=18, spaceBefore=10)
    story = [Paragraph(title, heading), Spacer(1, 8)]
    for name, rows in sections:
        story += [Paragraph(name, subheading), Table(rows, repeatRows=1, style=TableStyle([
            ("FONTNAME", (0, 0), (-1, -1), "STSong-Light"),
            ("FONTSIZE", (0, 0), (-1, -1), 8),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
            ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ]))]
    SimpleDocTemplate(str(path), pagesize=landscape(A4), title=title).build(story)


def write_report(engine, directory, month: str, path: Path) -> Path:
    """Write the month's report to `path`; .pdf or .xlsx by its suffix."""
    sections = [*tables(month_figures(engine, month), directory), patrol_table(engine, directory, month)]
    year, number = month.split("-")
    title = f"{directory.street.name.zh} {year}年{int(number)}月 效果清单"
    writer = {".pdf": write_pdf, ".xlsx": write_xlsx}[path.suffix.lower()]
    writer(path, title, sections)
    return path

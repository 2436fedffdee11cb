"""A one-page PDF report: the summary, the funnel chart and the trend chart, drawn with fpdf2."""

from __future__ import annotations

from fpdf import FPDF

SUMMARY_LABELS = (("total_enrolled", "Enrolled"), ("currently_active", "Currently active"),
                  ("completed", "Completed"), ("completion_rate", "Completion rate (%)"),
                  ("goals_achieved", "Goals achieved"), ("conversion_rate", "Conversion rate (%)"),
                  ("average_duration_hours", "Average duration (hours)"))


def _text(value) -> str:
    return "-" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


def _latin(text: str) -> str:
    # The core fonts cover Latin-1 only.
    return text.encode("latin-1", "replace").decode("latin-1")


def render(name: str, analytics: dict, funnel: dict) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin(f"Workflow analytics: {name}"), new_x="LMARGIN", new_y="NEXT")
    period = analytics["period"]
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, 6, f"Workflow {analytics['workflow_id']}, {period['start_date']} to "
                   f"{period['end_date']}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, "Summary", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for key, label in SUMMARY_LABELS:
        pdf.cell(70, 6, label)
        pdf.cell(0, 6, _text(analytics["summary"][key]), new_x="LMARGIN", new_y="NEXT")
    _funnel_chart(pdf, funnel)
    _trend_chart(pdf, analytics["trends"])
    return bytes(pdf.output())


def _funnel_chart(pdf: FPDF, funnel: dict) -> None:
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, "Funnel", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    steps = funnel["funnel_steps"]
    widest = max((s["entered"] for s in steps), default=0) or 1
    for step in steps:
        y = pdf.get_y()
        pdf.cell(55, 6, _latin(f"{step['step_order']}. {step['step_name'] or step['step_id']}")[:34])
        pdf.set_fill_color(200, 200, 230)
        pdf.rect(70, y + 1, 90 * step["entered"] / widest, 4, style="F")
        pdf.set_fill_color(60, 90, 170)
        pdf.rect(70, y + 1, 90 * step["completed"] / widest, 4, style="F")
        pdf.set_x(163)
        pdf.cell(0, 6, f"{step['entered']:,} entered, {step['completed']:,} completed",
                 new_x="LMARGIN", new_y="NEXT")
    if funnel["bottleneck_step"]:
        pdf.cell(0, 6, _latin(f"Bottleneck step: {funnel['bottleneck_step']}"),
                 new_x="LMARGIN", new_y="NEXT")


def _trend_chart(pdf: FPDF, trends: list[dict]) -> None:
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, "Trend: new enrolments per day", new_x="LMARGIN", new_y="NEXT")
    if not trends:
        pdf.set_font("Helvetica", "", 9)
        pdf.cell(0, 6, "No activity in the period.", new_x="LMARGIN", new_y="NEXT")
        return
    top, height, left, width = pdf.get_y() + 2, 50, 20, 170
    highest = max(t["new_enrollments"] for t in trends) or 1
    pdf.set_draw_color(0, 0, 0)
    pdf.line(left, top + height, left + width, top + height)
    pdf.line(left, top, left, top + height)
    step = width / len(trends)
    pdf.set_fill_color(60, 90, 170)
    for i, point in enumerate(trends):
        bar = height * point["new_enrollments"] / highest
        pdf.rect(left + i * step + step * 0.1, top + height - bar, step * 0.8, bar, style="F")
    pdf.set_font("Helvetica", "", 8)
    pdf.set_xy(left, top + height + 1)
    first, last = trends[0], trends[-1]
    pdf.cell(0, 5, f"{first.get('date') or first.get('hour')} .. {last.get('date') or last.get('hour')}"
                   f"   max {highest:,} per bucket")

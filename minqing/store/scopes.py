"""Which cases a staff member may see, as a WHERE clause over submissions (who answers for what: minqing.domain.access)."""

from __future__ import annotations

from sqlalchemy import and_, exists, false, select, true

from minqing.store.tables import assignments, submissions


def scope_clause(staff):
    """A WHERE clause limiting `submissions` to the cases `staff` may see."""
    if staff.role == "street":
        return true()
    if staff.role == "community":
        return submissions.c.community.in_(staff.communities) if staff.communities else false()
    if staff.role == "official":
        assigned = exists(select(assignments.c.staff_id).where(
            assignments.c.submission_id == submissions.c.id, assignments.c.staff_id == staff.id))
        return and_(submissions.c.kind == "enterprise", assigned)
    if staff.role == "service_team":
        return and_(submissions.c.kind == "consultation", submissions.c.category.in_(staff.services or ("",)))
    return false()

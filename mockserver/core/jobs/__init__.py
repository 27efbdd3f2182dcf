"""Jobs: a schedule fixed at creation (:mod:`.schedule`), one engine that keeps them in the store and on the
clock (:mod:`.engine`), waiting on them (:mod:`.waiting`), and the domain errors (:mod:`.errors`)."""

from mockserver.core.jobs.engine import JobEngine, JobKind, Record
from mockserver.core.jobs.errors import JobError, JobNotCancellable, JobNotFound
from mockserver.core.jobs.records import CompactRecord
from mockserver.core.jobs.schedule import (
    JobState,
    Packed,
    Phases,
    build_phases,
    entered,
    packed,
    pairs,
    state_at,
    timeline,
)
from mockserver.core.jobs.waiting import Progress, progress, wait_terminal

__all__ = [
    "CompactRecord", "JobEngine", "JobError", "JobKind", "JobNotCancellable", "JobNotFound", "JobState", "Packed",
    "Phases", "Progress", "Record", "build_phases", "entered", "packed", "pairs", "progress", "state_at",
    "timeline", "wait_terminal",
]

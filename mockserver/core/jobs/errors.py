"""The job engine's domain errors; each API maps them onto its own HTTP answer."""

from __future__ import annotations


class JobError(Exception):
    """Something a caller asked of a job that the job's rules refuse."""


class JobNotFound(JobError):
    """No job ``job_id`` of this kind belongs to the caller (unknown, deleted, or someone else's)."""

    def __init__(self, kind: str, job_id: str) -> None:
        super().__init__(f"{kind} {job_id!r} was not found")
        self.kind = kind
        self.job_id = job_id


class JobNotCancellable(JobError):
    """The job has already reached its terminal ``status``."""

    def __init__(self, kind: str, job_id: str, status: str) -> None:
        super().__init__(f"{kind} {job_id!r} has already {status}")
        self.kind = kind
        self.job_id = job_id
        self.status = status

"""The recruiters' and overseers' workspace under ``/w``: staff sign in, work the review queue, decide cases,
answer contests, oversee models and the audit log.

:func:`install` adds it to the app. Every route names the permission it needs (:mod:`.access`); the pages
call the same pipeline and oversight functions as the command line, so the workspace adds no decision
logic of its own.
"""

from profiler.web.workspace.app import install

__all__ = ["install"]

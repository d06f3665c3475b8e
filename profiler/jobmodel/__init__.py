"""Transparent job models: written weights over trait scales and skill evidence, with decision bands."""

from profiler.jobmodel.jobmodel import JobModel
from profiler.jobmodel.loader import bundled_job_models, load_job_model, parse_job_model
from profiler.jobmodel.model import JobModelSpec

__all__ = ["JobModel", "JobModelSpec", "bundled_job_models", "load_job_model", "parse_job_model"]

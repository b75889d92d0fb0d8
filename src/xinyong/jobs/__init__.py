"""Scheduled jobs: the worker that runs them on their schedules, one run at a time across instances, and the
registry through which domains add theirs (`xinyong.jobs.registry.register`)."""

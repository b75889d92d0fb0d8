from tests.fixtures.clock import manual_clock  # noqa: F401  (time moved by hand instead of slept)

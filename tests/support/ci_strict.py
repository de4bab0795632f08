"""pytest hooks: with the environment variable CI true (.ci/run sets it), every skip (a test's
pytest.skip, a skipif mark, a module's importorskip) is reported as a failure that gives the skip's
reason, because CI must run every test. Without CI, skips stay skips (pytest -rs shows why).
conftest.py registers these hooks; test_ci_strict.py loads them with -p ci_strict."""

import os

import pytest

CI = os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _skip_reason(report):
    longrepr = report.longrepr
    return longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)


def _fail_skip_in_ci(report):
    """Turns a skipped test or module into a failure that gives the skip's reason (CI only)."""
    if CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"CI=true, so a skip is a failure: {_skip_reason(report)}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_skip_in_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_skip_in_ci(outcome.get_result())

"""Fixtures of the black-box suite: the real mailtally binary, boto3 clients and the Debian CLI.

- `server`: one server per test module (tests there use unique names so they do not interfere).
- `fresh_server`: a server of its own for tests that need an empty account.
- `server_factory`: start servers with a chosen data dir, environment or extra arguments.
- `ses`, `sesv2`, `cloudwatch`: boto3 clients bound to the module server.
- `aws_cli(*args)`: `/usr/bin/aws` against the module server -> (returncode, json|None, stderr).

With MAILTALLY_TEST_DATABASE (a PostgreSQL admin URL) every server runs on PostgreSQL instead of
SQLite (helpers.with_test_database); scripts/test.sh runs the suite both ways.
"""

from __future__ import annotations

import os

import pytest

import helpers
from helpers import ServerProcess

# boto3 in this process must never read a developer's ~/.aws files or AWS_* settings.
for _k in [k for k in os.environ if k.startswith("AWS_") and k != "AWS_CA_BUNDLE"]:
    os.environ.pop(_k)
os.environ.update({k: v for k, v in helpers.CLEAN_AWS_ENV.items()})


@pytest.fixture(scope="session", autouse=True)
def _test_databases():
    """In the PostgreSQL mode (helpers.TEST_DATABASE), drops the run's databases at the end."""
    yield
    helpers.drop_test_databases()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = ServerProcess(tmp_path_factory.mktemp("srv") / "data").start()
    yield srv
    srv.close()


@pytest.fixture
def fresh_server(tmp_path):
    srv = ServerProcess(tmp_path / "data").start()
    yield srv
    srv.close()


@pytest.fixture
def server_factory(tmp_path):
    """Returns make(data_dir=None, env=None, extra_args=(), start=True) -> ServerProcess."""
    made: list[ServerProcess] = []

    def make(data_dir=None, env=None, extra_args=(), start=True):
        d = data_dir or (tmp_path / f"data{len(made)}")
        srv = ServerProcess(d, env=env, extra_args=extra_args)
        made.append(srv)
        if start:
            srv.start()
        return srv

    yield make
    for srv in made:
        srv.close()


@pytest.fixture(scope="module")
def ses(server):
    return server.client("ses")


@pytest.fixture(scope="module")
def sesv2(server):
    return server.client("sesv2")


@pytest.fixture(scope="module")
def cloudwatch(server):
    return server.client("cloudwatch")


@pytest.fixture(scope="module")
def aws_cli(server):
    assert os.path.exists(helpers.AWS_CLI), "the Debian AWS CLI (/usr/bin/aws, package awscli) " \
                                            "is required"

    def run(*args, **kw):
        return server.cli(*args, **kw)

    return run

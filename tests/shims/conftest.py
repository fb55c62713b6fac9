"""Fixtures for the bootstrap shim tests; the harness is in shimharness.py."""

import pytest

from shimharness import Environment, FakeRuntimeApi, write_files


@pytest.fixture
def spawn(tmp_path):
    """spawn(runtime, files, handler, env=None, close_connections=False, bootstrap=None)
    -> Environment; bootstrap: a copy of the shim to run instead of the repository's."""
    started = []
    counter = [0]

    def _spawn(runtime, files, handler, env=None, close_connections=False, bootstrap=None):
        counter[0] += 1
        root = tmp_path / ("task%d" % counter[0])
        root.mkdir()
        write_files(root, files)
        api = FakeRuntimeApi(close_connections)
        environment = Environment(runtime, root, handler, api, env, bootstrap)
        started.append(environment)
        return environment

    yield _spawn
    for environment in started:
        environment.stop()
        environment.api.close()

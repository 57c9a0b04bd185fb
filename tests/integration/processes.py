"""Processes for the real-worker tests (therabee/testing/processes.py): each test gets its
own redis-server on a free port, so stopping and restarting Redis never touches the
machine's shared Redis on 6379. The fixtures using them are in conftest_celery.py."""

from therabee.testing.processes import ROOT, RedisServer, Worker, wait_for  # noqa: F401

"""The settings pytest runs with: the project's own, each xdist worker on its own Redis databases.

pytest-django reads the settings before any conftest is imported, so this is the one place that
runs early enough to give a worker its Redis databases (tests/parallel.py) before the project's
settings read the environment. Processes the tests start run the project's settings
(`tests/processes.py`), on the environment as rewritten here.
"""

from tests.parallel import assign_this_worker

assign_this_worker()

from worldservice.settings import *  # noqa: E402, F403

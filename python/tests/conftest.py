import os
import shutil
import tempfile

import pytest


@pytest.fixture
def folder():
    """A scratch folder on the real disk (O_DIRECT needs a file system that supports it), removed after."""
    path = tempfile.mkdtemp(prefix="swift-aio-py-", dir=os.environ.get("AIO_TEST_DIR"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def engines():
    """The engines that work here: io_uring and kernel AIO where the kernel allows them, POSIX always."""
    import swift_aio
    found = []
    for engine in ("io_uring", "aio", "posix"):
        try:
            swift_aio.aio_handle(engine=engine)
            found.append(engine)
        except OSError:
            pass
    return found

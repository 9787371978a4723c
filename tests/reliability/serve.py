"""`python -m tests.reliability.serve PORT WORKERS`: the test app through `fastblog.cli.serve`."""

import sys

from fastblog.cli import serve

if __name__ == "__main__":
    port, workers = int(sys.argv[1]), int(sys.argv[2])
    serve("127.0.0.1", port, workers, False, app="tests.reliability.app:create_app")

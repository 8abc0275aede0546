"""A `nianbao` command whose raw-store writes fail with ENOSPC after a byte budget
(NIANBAO_TEST_RAW_BUDGET), half-way through a file as a full disk does: run it as
`python -c RAW_STORE_FULL <nianbao args>`. For tests without root (no tmpfs mount)."""
RAW_STORE_FULL = """
import errno, os, pathlib, runpy, sys
budget = [int(os.environ["NIANBAO_TEST_RAW_BUDGET"])]
real = pathlib.Path.write_bytes
def write_bytes(self, data):
    if ".tmp" in self.name and budget[0] < len(data):
        real(self, bytes(data[: max(budget[0], 0)]))
        budget[0] = 0
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
    budget[0] -= len(data) if ".tmp" in self.name else 0
    return real(self, data)
pathlib.Path.write_bytes = write_bytes
sys.argv = ["nianbao", *sys.argv[1:]]
runpy.run_module("nianbao", run_name="__main__")
"""

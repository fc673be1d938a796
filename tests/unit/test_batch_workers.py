"""The yearly mailing's worker processes end with the mailing (infra/statement_batch.py
`stop_with_parent`): a mailing killed outright leaves no orphan writing on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

# A "mailing" whose one worker (from the fork server, as the mailing's) sleeps a minute.
MAILING = textwrap.dedent("""
    import multiprocessing, sys, time
    from infra.statement_batch import stop_with_parent

    def work() -> None:
        stop_with_parent()
        time.sleep(60)

    if __name__ == "__main__":
        context = multiprocessing.get_context("forkserver")
        worker = context.Process(target=work)
        worker.start()
        print(worker.pid, flush=True)
        time.sleep(60)
""")


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the state of processes in /proc")
def test_a_worker_ends_when_the_mailing_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "mailing.py"  # a file: the fork server's child imports its target
    script.write_text(MAILING)
    mailing = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                               text=True, cwd=os.getcwd())
    try:
        assert mailing.stdout is not None
        worker = int(mailing.stdout.readline())
        time.sleep(0.5)  # the worker has asked for the signal
        assert alive(worker)
        mailing.send_signal(signal.SIGKILL)
        mailing.wait(timeout=10)
        deadline = time.monotonic() + 10
        while alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(worker), "the worker outlived the mailing"
    finally:
        mailing.kill()

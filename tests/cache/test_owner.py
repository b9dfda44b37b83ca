import os
import subprocess
import sys

from proxy.cache import owner


def test_this_process_is_alive_and_a_finished_one_is_not():
    assert owner.alive(owner.me())
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True)  # fmt: skip
    pid = int(done.stdout)
    assert not owner.alive(f"{pid}-1")


def test_a_reused_pid_is_a_different_process():
    pid, started = owner.me().split("-")
    assert not owner.alive(f"{pid}-{int(started) + 1}")
    assert not owner.alive("not-a-pid")
    assert owner.me().startswith(f"{os.getpid()}-")

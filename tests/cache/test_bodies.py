import subprocess
import sys

from proxy.cache import owner
from proxy.cache.bodies import Bodies


def test_staging_files_of_dead_processes_are_cleared_and_ours_are_kept(tmp_path):
    bodies = Bodies(tmp_path)
    ours = bodies.staging_path()
    ours.write_bytes(b"in flight")
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True)  # fmt: skip
    dead = bodies.staging_dir / f"{int(done.stdout)}-1.fill.abc"
    dead.write_bytes(b"left by a crash")
    assert bodies.clear_dead_staging() == 1
    assert ours.exists() and not dead.exists()
    assert ours.name.startswith(owner.me())


def test_entry_files_spread_over_two_levels_and_never_share_a_name(tmp_path):
    bodies = Bodies(tmp_path)
    first, second = bodies.relative_name("k"), bodies.relative_name("k")
    assert first != second and first.split("/")[:2] == second.split("/")[:2]
    assert len(first.split("/")) == 3

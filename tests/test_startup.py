"""`tailor serve` is restarted often (deploys, crashes, the crash harness): it must not import
libraries only some commands use."""

import subprocess
import sys

HEAVY = ("sklearn", "scipy.stats", "torch", "matplotlib", "ray", "sentence_transformers")


def test_the_cli_and_the_app_start_without_heavy_libraries():
    probe = (
        "import sys, tailor.cli, tailor.service.app; "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout.strip()
    assert loaded == ""

"""How the engine and the command ship: the core imports without the `cli` extra, the console script and
`python -m people_events_client` exist, and the generated project declares both."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

WITHOUT_RICH = """
import sys
sys.modules["rich"] = None  # any `import rich...` now raises ImportError
import people_events_client.delivery, people_events_client.cli
from people_events_client.cli.progress import make_display
class Terminal:
    def isatty(self): return True
    def write(self, text): sys.stdout.write(text)
    def flush(self): pass
display = make_display(Terminal(), interval=1.0)
print(type(display).__name__)
"""


def test_the_engine_and_the_command_work_without_the_cli_extra() -> None:
    result = subprocess.run([sys.executable, "-c", WITHOUT_RICH], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "install infobip-people-events-client[cli] for a live progress bar" in result.stdout
    assert result.stdout.strip().endswith("PlainDisplay")


def test_the_generated_project_declares_the_cli_extra_and_the_console_script() -> None:
    project = tomllib.loads((ROOT / "generated" / "pyproject.toml").read_text())["project"]
    assert project["scripts"] == {"people-events": "people_events_client.cli:main"}
    assert any(requirement.startswith("rich") for requirement in project["optional-dependencies"]["cli"])
    assert not any(requirement.startswith("rich") for requirement in project["dependencies"])


def test_the_console_script_and_the_module_both_run_the_command() -> None:
    script = shutil.which("people-events", path=str(Path(sys.executable).parent))
    assert script is not None, "pip install ./generated installs the people-events console script"
    for argv in ([script, "send", "--help"], [sys.executable, "-m", "people_events_client", "send", "--help"]):
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        assert "--dry-run" in result.stdout
        assert "130 interrupted" in " ".join(result.stdout.split())

"""House rules checked over the library's source, so that they cannot quietly regress.

No hidden environment: the library reads the process environment at a few boundaries only; every
other function is given what it needs (a command passes `context.environment` down)."""

import ast
from pathlib import Path

from ds01common import cli

LIBRARY = Path(cli.__file__).parent

# Where the process environment may be read: module -> the functions allowed (None: all of it).
ENVIRONMENT_BOUNDARY = {
    # The DS01_* locations (root, config, state, logs), trusted only for root or a checkout.
    "paths.py": None,
    # The one read behind cli.Context(...).environment and `run`'s DS01_DEBUG.
    "cli.py": {"process_environment"},
    # Entry points that run without cli: the login greeting (`python -I -S`, standard library only)
    # and the job runner on a Slurm node (`python -m ds01common.backend.node`).
    "greeting.py": {"main"},
    "backend/node.py": {"main"},
    # A command's own entry (bin/ wrappers call `launch`): the --help fast path runs before cli loads.
    "commands/__init__.py": {"launch"},
    # `make install`'s help renderer sets COLUMNS, the width argparse wraps at, around each --help.
    "commands/rendered_help.py": {"capture_help"},
    # DOCKER_HOST when no environment is given (the Context gives its own), as the docker SDK reads it.
    "dockerapi/client.py": {"engine_address"},
}
ENVIRONMENT_NAMES = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}
# Who may call cli.process_environment(): the Context and `run` (cli.py), and `launch`, which hands
# it to the locked-mode door before a command's Context exists.
PROCESS_ENVIRONMENT_CALLERS = {"cli.py", "commands/__init__.py"}


def _uses(tree, wanted):
    """(line, enclosing function's qualified name) of each use of `wanted(node)` in the module."""
    found = []

    def visit(node, scope):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            scope = f"{scope}.{node.name}" if scope else node.name
        if wanted(node):
            found.append((node.lineno, scope))
        for child in ast.iter_child_nodes(node):
            visit(child, scope)

    visit(tree, "")
    return found


def _reads_environment(node):
    # ~ is the HOME of whoever runs the process (under sudo, root's): the acting user's is user.home.
    if isinstance(node, ast.Attribute) and node.attr == "expanduser":
        return True
    if isinstance(node, ast.Attribute) and node.attr == "home":
        return isinstance(node.value, ast.Name) and node.value.id == "Path"
    if isinstance(node, ast.Attribute) and node.attr in ENVIRONMENT_NAMES:
        return isinstance(node.value, ast.Name) and node.value.id == "os"
    if isinstance(node, ast.ImportFrom) and node.module == "os":
        return any(alias.name in ENVIRONMENT_NAMES for alias in node.names)
    return False


def _modules():
    for path in sorted(LIBRARY.rglob("*.py")):
        yield path.relative_to(LIBRARY).as_posix(), ast.parse(path.read_text())


def test_only_the_boundary_modules_read_the_process_environment():
    outside = []
    for module, tree in _modules():
        allowed = ENVIRONMENT_BOUNDARY.get(module, set())
        if allowed is None:
            continue
        outside += [f"{module}:{line} in {scope or 'module level'}" for line, scope in _uses(tree, _reads_environment)
                    if scope.rpartition(".")[2] not in allowed]
    assert outside == [], "take the environment as a parameter (context.environment) instead"


def test_commands_take_the_environment_from_their_context_not_from_the_process():
    def calls_it(node):
        return isinstance(node, ast.Call) and (
            isinstance(node.func, ast.Attribute) and node.func.attr == "process_environment"
            or isinstance(node.func, ast.Name) and node.func.id == "process_environment")

    callers = [f"{module}:{line}" for module, tree in _modules() if module not in PROCESS_ENVIRONMENT_CALLERS
               for line, _ in _uses(tree, calls_it)]
    assert callers == []


def test_the_guard_sees_a_hidden_environment_read():
    planted = ast.parse("import os\ndef helper():\n    return os.environ.get('HOME')\n"
                        "from os import getenv\n"
                        "def mine(path):\n    return path.expanduser()\n")
    assert _uses(planted, _reads_environment) == [(3, "helper"), (4, ""), (6, "mine")]

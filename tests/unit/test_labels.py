"""labels.py: every ds01.* label name is spelled there and nowhere else in the library."""

import ast
from pathlib import Path

from ds01common import labels

LIBRARY = Path(labels.__file__).parent
# greeting.py runs at every login with the standard library only (its docstring says why), so it
# spells the few labels it reads itself; test_greeting_reads_the_labels_labels_py_defines checks them.
STANDALONE = {"greeting.py"}
LABEL_NAMES = [value for name, value in vars(labels).items()
               if name.isupper() and isinstance(value, str) and value.startswith("ds01.")]


def _string_constants(tree):
    """Every string literal in the module except docstrings (which may show labels as examples)."""
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)}
    return [node for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def test_no_library_module_spells_a_label_name_in_a_string():
    spelled = [f"{path.relative_to(LIBRARY)}:{node.lineno}"
               for path in sorted(LIBRARY.rglob("*.py")) if path.name != "labels.py" and path.name not in STANDALONE
               for node in _string_constants(ast.parse(path.read_text()))
               if any(node.value == name or node.value.startswith(name + "=") for name in LABEL_NAMES)]
    assert spelled == []


def test_greeting_reads_the_labels_labels_py_defines():
    tree = ast.parse((LIBRARY / "greeting.py").read_text())
    spelled = {node.value.partition("=")[0] for node in _string_constants(tree)
               if node.value.startswith("ds01.") and not node.value.endswith(".sh")}
    assert spelled and spelled <= set(LABEL_NAMES)


def test_managed_filter_selects_exactly_the_managed_label():
    assert labels.MANAGED_FILTER == {"label": "ds01.managed=true"}
    assert labels.is_managed({"ds01.managed": "true"})
    assert not labels.is_managed({"ds01.managed": "false"}) and not labels.is_managed(None)


def test_slot_ids_reads_the_comma_separated_label_and_ignores_empty_parts():
    assert labels.slot_ids({labels.GPU_SLOTS: "0,1:2,"}) == ["0", "1:2"]
    assert labels.slot_ids({labels.GPU_SLOTS: ""}) == [] and labels.slot_ids({}) == []


def test_slot_ids_ignore_spaces_around_ids_in_a_hand_made_label():
    assert labels.slot_ids({labels.GPU_SLOTS: " 0 , 1:2 ,"}) == ["0", "1:2"]


def test_host_port_reads_the_port_label_and_is_none_for_containers_made_before_ports():
    assert labels.host_port({labels.PORT: "20004"}) == 20004
    assert labels.host_port({}) is None
    assert labels.host_port(None) is None
    assert labels.host_port({labels.PORT: "not-a-port"}) is None

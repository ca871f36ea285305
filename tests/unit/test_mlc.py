"""mlc: AIME's framework table, names and flags on DS01's meaning (no engine needed here)."""

import pytest
from ds01common import config as config_module
from ds01common import frameworks, mlc
from ds01common.commands import mlc_family
from ds01common.errors import Ds01Error, NotFound
from ds01common.identity import User
from helpers import ROOT, write_config

TABLE = {"Pytorch-2.8.0": "pytorch/pytorch:2.8.0", "pytorch-2.3": "pytorch/pytorch:2.3.1",
         "Tensorflow-2.16.1": "tensorflow/tensorflow:2.16.1-gpu", "Pytorch-2.10.0": "pt:2.10"}


@pytest.fixture
def config(ds01_env):
    write_config(ds01_env, {"images": {"frameworks": TABLE}})
    return config_module.load(ds01_env["config"])


def test_a_known_pair_names_its_image_whatever_the_case(config):
    assert frameworks.resolve(config.frameworks, "PYTORCH", "2.8.0").image == "pytorch/pytorch:2.8.0"
    assert frameworks.resolve(TABLE, "tensorflow", "2.16.1").title == "Tensorflow 2.16.1"


def test_versions_match_with_or_without_trailing_zero_parts():
    assert frameworks.resolve(TABLE, "pytorch", "2.8").image == "pytorch/pytorch:2.8.0"
    assert frameworks.resolve(TABLE, "pytorch", "2.3.0").image == "pytorch/pytorch:2.3.1"
    with pytest.raises(NotFound):
        frameworks.resolve(TABLE, "pytorch", "2.1")  # 2.10.0 is not 2.1


def test_an_unknown_pair_lists_what_exists_newest_first(config):
    with pytest.raises(NotFound) as raised:
        frameworks.resolve(config.frameworks, "pytorch", "1.0")
    assert "available: Pytorch 2.10.0, Pytorch 2.8.0, pytorch 2.3, Tensorflow 2.16.1" in str(raised.value)


def test_no_frameworks_configured_says_so(ds01_env):
    config = config_module.load(ds01_env["config"])
    with pytest.raises(NotFound, match="none configured"):
        frameworks.resolve(config.frameworks, "pytorch", "2.3")


def test_the_shipped_table_answers_aimes_example_commands():
    shipped = config_module.load(ROOT / "config" / "resource-limits.yaml")
    names = {row.name for row in frameworks.table(shipped.frameworks)}
    assert {"Pytorch", "Tensorflow", "Jax"} <= names
    assert "2.8.0" in frameworks.resolve(shipped.frameworks, "Pytorch", "2.8.0").image
    assert "-gpu" in frameworks.resolve(shipped.frameworks, "tensorflow", "2.16.1").image


def test_the_table_says_which_images_are_present():
    rows = frameworks.rows_with_presence(TABLE, lambda image: image.startswith("tensorflow"))
    present = {row.framework: row.present for row in rows}
    assert present == {"Pytorch": False, "pytorch": False, "Tensorflow": True}
    cells, headers = frameworks.format_rows(rows)
    assert headers[-1] == "ON THIS SERVER" and cells[-1][-1] == "yes"


def test_choosing_a_framework_rewrites_only_the_from_line():
    text = "# blueprint\nFROM ubuntu:22.04 AS base\nRUN pip install x\nFROM scratch\n"
    rebased = frameworks.with_base_image(text, "pt:2.8")
    assert rebased == "# blueprint\nFROM pt:2.8 AS base\nRUN pip install x\nFROM scratch\n"
    with pytest.raises(Ds01Error):
        frameworks.with_base_image("RUN true\n", "pt:2.8")


@pytest.mark.parametrize(("typed", "used"), [("tf1.15.0", "tf1-15-0"), ("My-Container", "my-container"),
                                             ("work", "work")])
def test_aime_names_map_to_a_ds01_name_and_say_so(typed, used):
    mapped = mlc.ds01_name(typed)
    assert mapped.name == used
    assert (mapped.notice() is None) == (typed == used)
    if typed != used:
        assert repr(used) in mapped.notice()


@pytest.mark.parametrize("bad", ["a/b", "../x", "a b", ".hidden"])
def test_names_docker_cannot_take_are_still_refused(bad):
    with pytest.raises(Ds01Error):
        mlc.ds01_name(bad)


def test_gpu_counts_are_a_number_or_all():
    assert mlc.parse_gpus("all") == mlc.ALL_GPUS and mlc.parse_gpus("2") == 2 and mlc.parse_gpus(None) is None
    with pytest.raises(Ds01Error, match="'all'"):
        mlc.parse_gpus("many")


def test_mlc_create_passes_the_image_mounts_gpus_and_label_on(config, monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr(mlc.containers, "create", lambda *args, **kwargs: seen.update(kwargs) or {"ok": True})
    user = User("me", "me", tmp_path.stat().st_uid, 0, str(tmp_path))
    mlc.create(None, config, user, "work", "pytorch", "2.3", workspace="/w", data_dir="/d",
               models_dir=str(tmp_path), gpus=0, state_dir="/s", log_dir="/l")
    assert seen["image"] == "pytorch/pytorch:2.3.1" and seen["cpu_only"] is True and seen["gpus"] == 0
    assert seen["workspace"] == "/w" and seen["data_dir"] == "/d" and seen["models_dir"] == tmp_path
    assert seen["extra_labels"] == {"ds01.mlc.framework": "pytorch-2.3"}


def test_a_models_directory_must_exist_and_is_made_absolute(tmp_path, monkeypatch):
    user = User("me", "me", 1000, 1000, str(tmp_path))
    (tmp_path / "models").mkdir()
    monkeypatch.chdir(tmp_path)
    assert mlc.check_models_dir("models", user) == tmp_path / "models"
    assert mlc.check_models_dir("~/models", user) == tmp_path / "models"
    with pytest.raises(NotFound, match="models directory"):
        mlc.check_models_dir(str(tmp_path / "absent"), user)


def test_update_sys_changes_nothing_and_points_admins_at_make_install():
    admin = mlc.update_sys_lines("1.2.3", True, "/opt/ds01")
    user = mlc.update_sys_lines("1.2.3", False)
    assert "DS01 1.2.3" in admin[0] and "make install" in admin[-1] and "/opt/ds01" in admin[-1]
    assert "Nothing was changed" in user[-1]


# AIME's documented argument forms (v1 and v2) parse; what they do is checked on the real engine
# in tests/integration/test_mlc_engine.py.
FORMS = [
    ("create", ["my-container", "Tensorflow", "2.12.0", "-w=/home/admin", "-d=/data"]),
    ("create", ["my-container", "Pytorch", "2.6.0", "-w", "/w", "-d", "/data", "-m", "/models", "-s",
                "-arch", "CUDA_AMPERE"]),
    ("create", ["my-container", "Pytorch", "2.8.0", "-g", "all"]),
    ("create", ["--info"]),
    ("create", []),
    ("open", ["my-container", "-s"]),
    ("list", ["-a"]),
    ("list", ["-au"]),
    ("start", ["my-container", "-s"]),
    ("start", ["my-container", "python", "-c", "print(1)"]),
    ("stop", ["my-container", "-Y"]),
    ("stop", ["my-container", "-f", "-s"]),
    ("remove", ["my-container", "-f"]),
    ("remove", ["my-container", "-Y"]),
    ("update-sys", ["-f"]),
]


@pytest.mark.parametrize(("sub", "argv"), FORMS)
def test_aime_argument_forms_parse(sub, argv):
    build_parser, _main = mlc_family.subcommand(sub, "doc")
    args = build_parser().parse_args(argv)
    if sub == "create" and argv and argv[0] != "--info":
        assert args.framework and args.version
    if sub == "start" and len(argv) > 2:
        assert args.command == ["python", "-c", "print(1)"]
    if sub in ("stop", "remove"):
        assert args.yes
    if argv == ["-au"]:
        assert args.all_users and not args.all


def _start_args(argv):
    build_parser, _main = mlc_family.subcommand("start", "doc")
    return mlc_family.SUBCOMMANDS["start"].parse(build_parser(), argv)


def test_an_admin_may_put_user_after_the_name_of_mlc_start_as_aime_users_type_it():
    assert (_start_args(["box", "--user", "alice"]).user, _start_args(["box", "--user", "alice"]).command) == \
        ("alice", [])
    args = _start_args(["box", "--user=alice", "-s", "python", "train.py"])
    assert (args.user, args.script, args.command) == ("alice", True, ["python", "train.py"])


def test_options_after_cmd_in_mlc_start_stay_cmds_own():
    args = _start_args(["box", "python", "-s", "x.py", "--user", "bob"])
    assert args.user is None and args.command == ["python", "-s", "x.py", "--user", "bob"]
    args = _start_args(["box", "--", "--user", "bob"])
    assert args.user is None and args.command == ["--user", "bob"]
    args = _start_args(["box", "--user", "alice", "sh", "-c", "x", "--", "-s"])
    assert args.user == "alice" and args.command == ["sh", "-c", "x", "--", "-s"]
    args = _start_args(["--user", "alice", "--", "box", "ls"])
    assert (args.user, args.name, args.command) == ("alice", "box", ["ls"])


def test_two_different_users_for_mlc_start_are_a_usage_error():
    from ds01common.errors import UsageError

    with pytest.raises(UsageError, match="--user given twice"):
        _start_args(["--user", "alice", "box", "--user", "bob"])
    with pytest.raises(UsageError, match="needs a user name"):
        _start_args(["box", "--user"])


def test_mlc_start_acts_for_the_user_named_after_the_name(monkeypatch):
    seen = {}

    class Context:
        def __init__(self, user_option=None):
            seen["user"] = user_option

    monkeypatch.setattr(mlc_family.cli, "Context", Context)
    monkeypatch.setattr(mlc_family.SUBCOMMANDS["start"], "run",
                        lambda args, context: seen.update(command=args.command) or 0)
    _build, main = mlc_family.subcommand("start", "doc")
    assert main(["box", "--user", "alice", "nvidia-smi", "-L"]) == 0
    assert seen == {"user": "alice", "command": ["nvidia-smi", "-L"]}

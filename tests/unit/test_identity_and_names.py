"""Who acts, and what names are allowed."""

import os
import pwd

import pytest
from ds01common import identity, names
from ds01common.errors import Ds01Error, NotFound, PermissionDenied


@pytest.mark.parametrize("login, sanitised", [
    ("alice", "alice"), ("Alice.Smith", "alice.smith"), ("jdoe@lab.example.org", "jdoe"),
    ("weird user!", "weird_user_"), ("DOMAIN+bob", "domain_bob"),
])
def test_usernames_are_sanitised_for_docker(login, sanitised):
    assert identity.sanitise(login) == sanitised


def test_the_acting_user_is_the_real_uid():
    user = identity.current_user()
    assert user.uid == os.getuid()
    assert user.login == pwd.getpwuid(os.getuid()).pw_name


def test_root_is_always_an_admin():
    root = identity.lookup_user("root")
    assert identity.is_admin(root, "no-such-group-xyz")


def test_a_plain_user_is_not_an_admin_without_the_group():
    nobody = identity.lookup_user("nobody")
    assert not identity.is_admin(nobody, "no-such-group-xyz")


def test_a_non_admin_asking_for_another_user_is_refused_with_exit_4():
    nobody = identity.lookup_user("nobody")
    with pytest.raises(PermissionDenied) as caught:
        identity.acting_user("root", "no-such-group-xyz", caller=nobody)
    assert caught.value.exit_code == 4


def test_naming_yourself_with_user_is_allowed_for_anyone():
    nobody = identity.lookup_user("nobody")
    assert identity.acting_user("nobody", "no-such-group-xyz", caller=nobody) == nobody


def test_an_admin_may_act_for_another_user():
    root = identity.lookup_user("root")
    assert identity.acting_user("nobody", "x", caller=root).login == "nobody"


def test_an_unknown_user_is_not_found():
    with pytest.raises(NotFound):
        identity.lookup_user("no-such-user-ds01")


@pytest.mark.parametrize("name", ["a", "my-project", "exp_01", "0abc", "x" * 40])
def test_good_names_are_accepted(name):
    assert names.validate_name(name) == name


@pytest.mark.parametrize("name", ["", "Upper", "a/b", "..", "a b", "x._.1", "-lead", "_lead", "x" * 41, "a.b"])
def test_bad_names_are_refused_saying_what_is_allowed(name):
    with pytest.raises(Ds01Error, match="lowercase letters, digits"):
        names.validate_name(name)


def test_docker_names_carry_the_uid_and_split_back():
    assert names.docker_name("proj", 1001) == "proj._.1001"
    assert names.split_docker_name("/proj._.1001") == ("proj", 1001)
    assert names.split_docker_name("someone-elses") == ("someone-elses", None)


def test_image_names_follow_the_contract():
    assert names.image_name("alice", "proj") == "ds01-alice/proj:latest"
    assert names.image_name("alice", "proj", "20260101") == "ds01-alice/proj:20260101"
    with pytest.raises(Ds01Error):
        names.image_name("alice", "Bad")


def test_short_names_are_what_users_see():
    assert names.short_name("proj._.1001") == "proj"
    assert names.short_name("/proj._.1001") == "proj"
    assert names.short_name(None) is None

"""dockerapi's image and stats calls hand callers typed records and plain values, never SDK objects."""

import pytest
from ds01common import dockerapi
from ds01common.errors import NotFound
from ds01common.records import ImageDetails
from fakes.engine import FakeEngine


def test_inspect_image_returns_a_record_with_the_fields_callers_read():
    engine = FakeEngine(images=())
    engine.add_image("sha256:abc", ["ds01-alice/proj:latest", "<none>:<none>"], {"ds01.user": "alice"}, size=4096)
    found = dockerapi.inspect_image(engine, "ds01-alice/proj:latest")
    assert found == ImageDetails(id="sha256:abc", tags=("ds01-alice/proj:latest",), labels={"ds01.user": "alice"},
                                 size=4096, created="2026-01-01T00:00:00Z")


def test_a_missing_image_is_none_to_inspect_and_not_found_to_get():
    engine = FakeEngine(images=())
    assert dockerapi.inspect_image(engine, "nothing:here") is None
    with pytest.raises(NotFound):
        dockerapi.get_image(engine, "nothing:here")


def test_remove_image_of_a_missing_image_is_a_typed_not_found():
    engine = FakeEngine(images=())
    with pytest.raises(NotFound):
        dockerapi.remove_image(engine, "nothing:here")

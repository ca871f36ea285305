"""A docker client stand-in for image tests: images with tags and labels, containers using them."""

import docker.errors


class FakeImage:
    def __init__(self, image_id, tags, labels=None, size=1024, created=1700000000):
        self.id = image_id
        self.tags = list(tags)
        self.labels = dict(labels or {})
        self.attrs = {"Id": image_id, "RepoTags": self.tags, "Size": size, "Created": created,
                      "Config": {"Labels": self.labels}}


class FakeImages:
    def __init__(self, engine):
        self.engine = engine
        self.removed = []

    def get(self, reference):
        for image in self.engine.image_list:
            if reference in image.tags:
                return image
        raise docker.errors.ImageNotFound(f"No such image: {reference}")

    def remove(self, reference, **kwargs):
        image = self.get(reference)
        image.tags.remove(reference)
        if not image.tags:
            self.engine.image_list.remove(image)
        self.removed.append(reference)


class FakeApi:
    def __init__(self, engine):
        self.engine = engine

    def images(self, **kwargs):
        return [{"Id": image.id, "RepoTags": list(image.tags), "Labels": image.labels,
                 "Size": image.attrs["Size"], "Created": image.attrs["Created"]}
                for image in self.engine.image_list]

    def containers(self, filters=None, **kwargs):
        wanted = (filters or {}).get("label")
        wanted = [wanted] if isinstance(wanted, str) else list(wanted or [])

        def matches(labels):
            return all(labels.get(item.split("=", 1)[0]) == item.split("=", 1)[1] for item in wanted)

        return [entry for entry in self.engine.container_list if matches(entry.get("Labels") or {})]

    def build(self, **kwargs):
        self.engine.builds.append(kwargs)
        return iter(self.engine.build_output)


class FakeImageEngine:
    def __init__(self):
        self.image_list = []
        self.container_list = []
        self.builds = []
        self.build_output = []
        self.images = FakeImages(self)
        self.api = FakeApi(self)

    def add_image(self, image_id, tags, labels=None, size=1024):
        image = FakeImage(image_id, tags, labels, size)
        self.image_list.append(image)
        return image

    def add_container(self, name, uid, user, image_id, managed=True):
        labels = {"ds01.managed": "true", "ds01.user": user, "ds01.uid": str(uid), "ds01.project": name} \
            if managed else {}
        self.container_list.append({"Names": [f"/{name}._.{uid}"], "ImageID": image_id, "Labels": labels})

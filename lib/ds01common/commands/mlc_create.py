"""AIME-style: create a container from a framework image (mlc-create NAME FRAMEWORK VERSION).

FRAMEWORK and VERSION pick an image from the server's framework table (images.frameworks in
resource-limits.yaml); names in any case, e.g. `mlc-create my-container Pytorch 2.8.0`.
Without arguments (or with --info) it prints the table: framework, version, image, and
whether the image is on this server. A NAME with dots or capitals (`tf1.15.0`) gets a DS01
name with '-' and lower case (`tf1-15-0`), said when it happens.
  -w DIR (or v1 -w=DIR)  mounted at /workspace (default ~/workspace/NAME)
  -d DIR                 mounted at /data (yours, or one you can read under an admin's data_roots)
  -m DIR                 mounted at /models (likewise)
  -g N | -g all          GPU slots (0: CPU-only; all: as many as your quota allows now)
  --wait [SECONDS]       queue for GPU slots instead of failing
"""

from .mlc_family import subcommand

build_parser, main = subcommand("create", __doc__)

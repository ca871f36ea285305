# DS01 project image for {{PROJECT}}: the "rl" template, reinforcement learning.
# This file is the blueprint of your environment: edit it, then run `image-update {{PROJECT}}`.
# Assumes a Debian/Ubuntu base image.
FROM {{BASE_IMAGE}}

ENV DEBIAN_FRONTEND=noninteractive PIP_NO_CACHE_DIR=1 PIP_BREAK_SYSTEM_PACKAGES=1 PYTHONUNBUFFERED=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-pip python3-venv git curl ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m pip install numpy pandas matplotlib tqdm jupyterlab ipykernel \
    torch gymnasium stable-baselines3 tensorboard

{{PACKAGES}}

{{USER_SETUP}}

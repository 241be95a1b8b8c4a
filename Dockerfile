# syntax=docker/dockerfile:1
#
# Two images from one file:
#   docker build --target serve -t audio-vae .        the API: serve extra only, no TensorFlow
#   docker build --target train -t audio-vae-train .  retraining: the train extra (TensorFlow)
# `docker compose up` builds the first; `docker compose --profile train run train` the second.
# tests/test_deploy_image.py reproduces the serve image's install and runs its CMD and HEALTHCHECK.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: a virtualenv with the serve extra, installed from a clean copy of the tree ----
# Everything the serve extra needs ships as manylinux wheels; should a dependency ever need a
# compiler, it is installed here and never reaches the final stage.
FROM ${PYTHON_IMAGE} AS build
ENV PATH=/opt/venv/bin:$PATH \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app/ app/
COPY training/ training/
# "./[serve]" is the local project (hadolint's DL3013 knows a path from an index package);
# its dependencies' versions are bounded in pyproject.toml, the one place that declares them.
RUN python -m venv /opt/venv \
    && pip install --no-cache-dir "./[serve]"

# ---- train: TensorFlow, Keras and tf2onnx, to retrain inside Docker ----
FROM ${PYTHON_IMAGE} AS train
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp
WORKDIR /srv/audio-vae
COPY pyproject.toml README.md ./
COPY app/ app/
COPY training/ training/
# runs/ (checkpoints) and .cache/ (features) are scratch, writable by any uid like /tmp: compose
# runs this as the host user so the bundles it writes into ./models are theirs; HOME=/tmp gives
# Keras and numba a writable home.
RUN pip install --no-cache-dir "./[train]" \
    && mkdir -m 1777 runs .cache
USER 10001:10001
ENTRYPOINT ["python", "-m", "training"]
CMD ["--help"]

# ---- serve: the runtime image; last, so a plain `docker build .` builds it ----
FROM ${PYTHON_IMAGE} AS serve
# Workers: one per core the container may use unless WEB_CONCURRENCY says otherwise; their
# metrics meet in PROMETHEUS_MULTIPROC_DIR (compose and Kubernetes mount a tmpfs there).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    AUDIOVAE_INTRA_OP_THREADS=1 \
    PROMETHEUS_MULTIPROC_DIR=/run/audiovae-metrics
RUN groupadd --system --gid 10001 audiovae \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin audiovae \
    && install -d -o 10001 -g 10001 -m 0700 /run/audiovae-metrics
COPY --from=build /opt/venv /opt/venv
# The service resolves its default bundle, models/default, against this folder; compose mounts
# ./models over it read-only so bundles can be swapped without a rebuild.
WORKDIR /srv/audio-vae
COPY models/default/ models/default/
USER 10001:10001
EXPOSE 8000
# /readyz is 200 only once the bundle is loaded, verified and warm; urlopen raises (exit 1) on
# a 503 or a refused connection. No curl in the image: Python's standard library does it.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]
# The serve command (app/serve.py): uvicorn with $WEB_CONCURRENCY workers (default: one per
# core of the container's CPU limit), the metrics folder emptied before they start;
# onnxruntime threads per worker from $AUDIOVAE_INTRA_OP_THREADS, and every other AUDIOVAE_*
# setting works as well.
CMD ["python", "-m", "app.serve", "--host", "0.0.0.0", "--port", "8000"]

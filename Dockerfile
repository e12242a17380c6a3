# socialdesk as a container: `docker build -t socialdesk .`
# The package is built into wheels in a first stage (its dependencies pinned by
# constraints.txt, the same file `make` installs from) and installed from those wheels only
# in a slim runtime stage, as a non-root user. tests/test_container_files.py checks that
# this file, compose.yaml and the configuration agree.
# The interpreter constraints.txt was resolved with (`make lock`).
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY socialdesk ./socialdesk
RUN pip wheel --no-cache-dir --wheel-dir /wheels --constraint constraints.txt ".[digest]"

FROM python:${PYTHON_VERSION}-slim
ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SOCIALDESK_CONFIG=/etc/socialdesk/plugins.toml
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels "socialdesk[digest]" \
    && rm -rf /wheels \
    && useradd --system --create-home --home-dir /var/lib/socialdesk --uid 10001 socialdesk
USER socialdesk
WORKDIR /var/lib/socialdesk
# 3000: Slack's requests in HTTP mode (plugins.slack.http.port); 8080: /healthz and /metrics (desk.status_port).
EXPOSE 3000 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
ENTRYPOINT ["socialdesk"]
CMD ["run", "--status-port", "8080"]

# marketo-stream in a slim image: the package built as a wheel, installed without build tools, run as a
# non-root user. The default command is the long-running sync serving metrics on 9464; the HEALTHCHECK asks it.
#   docker build -t marketo-stream .
#   docker run --rm -e MARKETO_STREAM_BASE_URL=... -e MARKETO_STREAM_CLIENT_ID=... \
#     -e MARKETO_STREAM_CLIENT_SECRET_FILE=/run/secrets/marketo -v ...:/run/secrets/marketo:ro marketo-stream
FROM python:3.11.11-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY marketo_stream/ marketo_stream/
RUN pip wheel --wheel-dir /wheels .

FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MARKETO_STREAM_SCHEMAS_DIR=/opt/marketo-stream/schemas \
    MARKETO_STREAM_SYNC__WORK_DIR=/var/lib/marketo-stream/work

RUN groupadd --system --gid 10001 marketo \
    && useradd --system --uid 10001 --gid marketo --home-dir /var/lib/marketo-stream --create-home marketo

COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links=/wheels /wheels/marketo_stream-*.whl && rm -rf /wheels
COPY schemas/ /opt/marketo-stream/schemas/

USER 10001:10001
WORKDIR /var/lib/marketo-stream
EXPOSE 9464

HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["marketo-stream", "health", "--url", "http://127.0.0.1:9464/metrics", "--max-age", "900"]

ENTRYPOINT ["marketo-stream"]
CMD ["sync", "--follow", "--metrics-port", "9464", "--log-format", "json"]

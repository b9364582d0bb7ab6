# outage-monitor: the daemon image, and (target `jupyter`) the same with JupyterLab for the notebooks.
#   docker compose up -d                      # the daemon, SQLite store in the `monitor-data` volume
#   docker compose --profile postgres up -d   # ... with PostgreSQL (set MONITOR_DB, POSTGRES_PASSWORD)
FROM python:3.12-slim AS app

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MPLBACKEND=Agg

WORKDIR /app
# Dependencies first (a layer that survives code changes), then the code and the bundled data.
COPY pyproject.toml README.md ./
RUN mkdir monitor && touch monitor/__init__.py \
    && pip install . && pip uninstall -y outage-monitor && rm -rf monitor build *.egg-info
COPY monitor ./monitor
COPY data ./data
COPY monitor.example.toml ./
# Editable, so the package finds the bundled data/ next to it (the demo and the replay use it).
RUN pip install --no-deps -e . \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin monitor \
    && mkdir -p /data /config \
    && chown monitor:monitor /data

USER monitor
WORKDIR /data
VOLUME ["/data"]
CMD ["outage-monitor", "--config", "/config/monitor.toml", "daemon"]

FROM app AS jupyter
USER root
COPY notebooks /app/notebooks
RUN pip install "jupyterlab>=4,<5" "ipykernel>=6"
USER monitor
WORKDIR /app/notebooks
EXPOSE 8888
CMD ["jupyter", "lab", "--ip=0.0.0.0", "--port=8888", "--no-browser"]

# mockserver: the Skytells and GateAI API emulator (the server only: no tests, benches or docs in the image).
#   docker build -t mockserver .
#   docker run --rm -p 8080:8080 -p 8081:8081 -e MOCKSERVER_ADMIN_TOKEN=change-me mockserver
#   (load tests: add -e MOCKSERVER_SERVER=granian, more requests per core, no reset/empty faults; see README)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MOCKSERVER_HOST=0.0.0.0

WORKDIR /app

# Dependencies first, in their own layer: it is rebuilt only when pyproject.toml changes, not with the code.
# Only [project] dependencies: the server. The harness extra (schemathesis, hypothesis, rich) stays out.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin mock

# Then the code (the wheel carries fixtures/ as mockserver/_fixtures and contracts/*.yaml as mockserver/_contracts).
COPY README.md ./
COPY mockserver ./mockserver
COPY contracts ./contracts
COPY fixtures ./fixtures
RUN pip install --no-cache-dir --no-deps . && rm -rf /app/*

USER 10001
EXPOSE 8080 8081
# `mockserver health` uses the standard library only (~0.2 s; no server, media or harness imports).
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 CMD ["mockserver", "health"]
CMD ["mockserver", "serve"]

# mockserver: the Skytells and GateAI API emulator.
#   docker build -t mockserver . && docker run -p 8080:8080 -p 8081:8081 mockserver
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MOCKSERVER_HOST=0.0.0.0

WORKDIR /app
COPY pyproject.toml README.md ./
COPY mockserver ./mockserver
COPY contracts ./contracts
COPY fixtures ./fixtures
RUN pip install --no-cache-dir . \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin mock

USER 10001
EXPOSE 8080 8081
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 CMD ["mockserver", "health"]
CMD ["mockserver", "serve"]

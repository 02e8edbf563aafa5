# The Telegram bot, with the bundled corpus indexed at image build time.
# The install and index steps are `make index`: the very command CI runs (.ci/run), so a
# green CI means this image builds the same way. Build: docker build -t essaybot .
# Run:   docker run -e ESSAYBOT_TELEGRAM_TOKEN=... -v essaybot-state:/app/state essaybot
#        docker run -p 8080:8080 essaybot web --host 0.0.0.0          (any channel: web, wechat, ...)
FROM python:3.11-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 essaybot \
    && install -d -o essaybot -g essaybot /app /app/state

WORKDIR /app
USER essaybot
COPY --chown=essaybot:essaybot pyproject.toml README.md Makefile ./
COPY --chown=essaybot:essaybot index index
COPY --chown=essaybot:essaybot bot bot
COPY --chown=essaybot:essaybot corpus corpus
RUN make index

ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    ESSAYBOT_CORPUS_DIR=/app/corpus \
    ESSAYBOT_INDEX_DIR=/app/data/index \
    ESSAYBOT_STATE_PATH=/app/state/state.db

# 8443: essaybot telegram --webhook https://... --port 8443; 8080: essaybot web / wechat
EXPOSE 8443 8080
HEALTHCHECK --interval=60s --timeout=20s --start-period=30s --retries=3 \
    CMD ["essaybot", "health"]
ENTRYPOINT ["essaybot"]
CMD ["telegram"]

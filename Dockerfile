# videobot: the bot and one worker per visible GPU, SQLite and clips under /data.
#   docker build -t videobot .
#   docker run --gpus all -e DISCORD_TOKEN=... -v videobot-data:/data -v hf-cache:/root/.cache/huggingface videobot
# compose.yaml runs the same image as `videobot bot` and `videobot worker` on PostgreSQL (README: Scale-out).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HOME=/root/.cache/huggingface \
    VIDEOBOT_C2PA_DIR=/data/c2pa

WORKDIR /app
# torch first and alone: its wheel (with the CUDA runtime) is the big layer, cached across code changes
RUN pip install torch==2.13.0
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY generator ./generator
COPY db ./db
COPY videobot ./videobot
RUN pip install .

# --metrics-port 9100 (compose's health checks): /metrics and /healthz
EXPOSE 9100
VOLUME ["/data"]
WORKDIR /data
ENTRYPOINT ["videobot"]
CMD ["run"]

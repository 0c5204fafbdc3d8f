# Contacts: one image for the web server (Daphne), the Celery worker and beat (docker-compose.yml).

# Front-end packages (htmx) come from npm, pinned by package-lock.json.
FROM node:20-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .
COPY --from=assets /src/node_modules ./node_modules
# Static files are built into the image (WhiteNoise serves them with DEBUG=0). The settings refuse to
# load without SECRET_KEY when DEBUG=0; this value exists only during this build step. No Redis here.
RUN DEBUG=0 SECRET_KEY=collectstatic-build-only REDIS_URL=redis://127.0.0.1:1/0 \
    python manage.py collectstatic --noinput

# The code and static files stay root-owned and read-only to the server's user.
RUN useradd --system --uid 10001 --home-dir /home/app --create-home app
USER app

EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "contactsite.asgi:application"]

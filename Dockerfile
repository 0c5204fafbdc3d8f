# Contacts: one image for the web server (Daphne), the Celery worker and beat (docker-compose.yml).

# Front-end packages (htmx) come from npm, pinned by package-lock.json; the test tools (axe-core) stay out.
FROM node:20-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

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
# load without a strong SECRET_KEY and ALLOWED_HOSTS when DEBUG=0; these values exist only during
# this build step (the key is random and never stored). No Redis is contacted.
RUN DEBUG=0 ALLOWED_HOSTS=build.invalid \
    SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    python manage.py collectstatic --noinput

# The code and static files stay root-owned and read-only to the server's user.
RUN useradd --system --uid 10001 --home-dir /home/app --create-home app
USER app

EXPOSE 8000
# --no-server-name: no `Server: daphne` header telling the world what to attack.
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "contactsite.asgi:application", "--no-server-name"]

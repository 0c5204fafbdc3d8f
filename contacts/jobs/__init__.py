"""Background jobs on Celery: bulk activation of leads, with progress kept in the database.

`models.py` holds what survives any crash (runs and their items); `activation.py` is the engine a
worker runs; `contacts/tasks.py` wraps it in Celery tasks. Progress reaches open pages through
the workspace's live group (`activation.progress`) and the API, which pages poll as a fallback.
"""

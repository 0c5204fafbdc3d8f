"""Migrations of Django's contrib apps for the MongoDB engine (ObjectId primary keys).

Generated offline; see docs/mongodb.md "Regenerating mongo_migrations". Used only when DATABASE_URL is
mongodb:// (settings.MIGRATION_MODULES); SQL engines keep Django's own migrations.
"""

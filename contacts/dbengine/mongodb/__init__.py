"""django-mongodb-backend with the project's fixes (`ENGINE = "contacts.dbengine.mongodb"`)."""

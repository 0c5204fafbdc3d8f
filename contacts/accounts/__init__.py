"""Sign-in, sign-out, password reset and change: Django's auth views with throttling and the app's templates."""

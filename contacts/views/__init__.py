"""Server-rendered pages. Thin: HTTP in, a selector or service call, a template out."""

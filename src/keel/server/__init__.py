"""The HTTP server: app factory, auth, middleware and error handlers. Feature routers are mounted here."""

"""Relaxations of the Content-Security-Policy (settings.CONTENT_SECURITY_POLICY), one per view.

The portal's own pages run no inline script or style. The API documentation pages are the
vendored Swagger UI and Redoc bundles: both are React apps that write <style> elements at run
time, and Redoc builds its search index in a blob: worker. Only those two views get these
sources; scripts stay 'self' (Swagger UI's start-up script is served as a file by
SpectacularSwaggerSplitView, Redoc starts from its <redoc> element).
"""

from csp.decorators import csp_update

api_docs_csp = csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]})

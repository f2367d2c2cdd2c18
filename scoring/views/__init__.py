"""The hot-lead definition pages (HTML, thin); ``scoring.urls`` imports the modules.

Kept empty so that ``scoring.forms`` may import ``scoring.views.display``
without importing the views.
"""

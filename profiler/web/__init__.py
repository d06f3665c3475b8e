"""``profiler serve``: candidates take assessments in a browser; vendors integrate over HTTP.

Needs the ``web`` extra (``pip install 'profiler-psychometrics[web]'``): FastAPI on Starlette, uvicorn. Build the app with
:func:`profiler.web.app.create_app`; see docs/web.md.
"""

"""Renderings of one ``Plan``: ``text.render_text``, ``html.render_html`` (plan and push result
reports) and ``markdown.render_markdown`` (pull-request summary). The push result JSON is written
by ``stagesync.result``.

Pure: each takes a plan (and, for a push result, each operation's outcome) and returns a string
or bytes. The plan JSON is the plan file itself: ``stagesync.planfile.plan_json_for_output``.
docs/reports.md describes them.
"""

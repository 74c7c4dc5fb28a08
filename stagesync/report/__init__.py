"""Renderings of one ``Plan``: ``text.render_text`` and ``html.render_html`` (planned: Markdown).

Pure: each takes a plan (and, for a push result, each operation's status) and returns a string.
The JSON rendering is the plan file itself: ``stagesync.planfile.plan_json_for_output``.
"""

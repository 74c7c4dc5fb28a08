"""The stages of planning, one module each (docs/architecture.md). Pure: no files, no HTTP.

    select -> diff -> close -> order -> bind -> estimate

``stagesync.plan.plan_selection`` runs the first three, ``stagesync.plan.build_plan`` the rest.
"""
